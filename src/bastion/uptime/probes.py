"""Probe a monitor once, asynchronously: HTTP(S), TCP, DNS and TLS certificate checks.

Each probe type is one coroutine under its name in ``PROBES``; ``probe`` runs the
monitor's, retries a failure ``retries`` times (a short pause between), times
the whole and returns one ``ProbeResult``. An HTTP probe's timing breakdown comes
from the name lookup (timed apart) and httpcore's trace events: connect, TLS
handshake, and the wait for the response's first byte.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.message
import dns.rdatatype
import httpx
from cryptography import x509

from bastion.core.registry import Registry
from bastion.uptime.domain import Monitor, MonitorKind, ProbeResult, Timings, accepts, parse_codes

Outcome = tuple[bool, int | None, str, Timings, float | None]
"""ok, status code, error, timings, TLS days left."""
Probe = Callable[[Monitor, httpx.AsyncClient], Awaitable[Outcome]]
_BODY_LIMIT = 1 << 20
_NO_TIMINGS = Timings()


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def json_path(document: Any, path: str) -> Any:
    """Return the value at a simple JSON path (``$.a.b[0].c``); raise KeyError when absent."""
    value = document
    for step in path.removeprefix("$").replace("[", ".").replace("]", "").split("."):
        if not step:
            continue
        if isinstance(value, list):
            value = value[int(step)]
        elif isinstance(value, dict):
            value = value[step]
        else:
            raise KeyError(step)
    return value


async def _lookup(host: str, port: int) -> float | None:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        start = time.perf_counter()
        await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return _ms(start)
    return None  # an address literal needs no lookup


def _content_error(item: Monitor, answer: httpx.Response, body: bytes) -> str:
    options = item.options
    if "keyword" in options and str(options["keyword"]).encode() not in body:
        return f"keyword {options['keyword']!r} not in the body"
    if "header" in options:
        found = answer.headers.get(str(options["header"]))
        wanted = options.get("header_value")
        if found is None or (wanted is not None and str(wanted) not in found):
            return f"header {options['header']!r} is {found!r}"
    if "json_path" in options:
        try:
            value = json_path(json.loads(body), str(options["json_path"]))
        except (ValueError, KeyError, IndexError, TypeError):
            return f"no {options['json_path']} in the JSON body"
        wanted = options.get("json_value")
        if wanted is not None and str(value) != str(wanted):
            return f"{options['json_path']} is {value!r}, not {wanted!r}"
    return ""


async def probe_http(item: Monitor, client: httpx.AsyncClient) -> Outcome:
    """Request the URL; check the status, then the keyword, header and JSON path asked for."""
    parts = urlsplit(item.target)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    dns_ms = await _lookup(parts.hostname or "", port)
    marks: dict[str, float] = {}

    async def trace(name: str, _info: dict[str, Any]) -> None:
        marks[name] = time.perf_counter()

    request = client.build_request(
        str(item.options.get("method", "GET")).upper(),
        item.target,
        timeout=item.timeout_s,
        extensions={"trace": trace},
    )
    answer = await client.send(
        request, stream=True, follow_redirects=bool(item.options.get("follow_redirects", True))
    )
    try:
        body = b""
        async for chunk in answer.aiter_bytes():
            body += chunk
            if len(body) >= _BODY_LIMIT:
                break
    finally:
        await answer.aclose()

    def span(first: str, last: str) -> float | None:
        if first in marks and last in marks:
            return round((marks[last] - marks[first]) * 1000, 3)
        return None

    sent = marks.get("http11.send_request_headers.started", marks.get("http2.send_headers.started"))
    got = marks.get(
        "http11.receive_response_headers.complete",
        marks.get("http2.receive_response_headers.complete"),
    )
    timings = Timings(
        dns=dns_ms,
        connect=span("connection.connect_tcp.started", "connection.connect_tcp.complete"),
        tls=span("connection.start_tls.started", "connection.start_tls.complete"),
        first_byte=round((got - sent) * 1000, 3) if sent and got else None,
    )
    if not accepts(parse_codes(str(item.options.get("accepted", ""))), answer.status_code):
        return False, answer.status_code, f"HTTP {answer.status_code}", timings, None
    error = _content_error(item, answer, body)
    return not error, answer.status_code, error, timings, None


def _host_port(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


async def probe_tcp(item: Monitor, _client: httpx.AsyncClient) -> Outcome:
    """Connect; send ``send`` if set, and read until ``expect`` arrives (if set)."""
    host, port = _host_port(item.target)
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    connect = _ms(start)
    try:
        if "send" in item.options:
            writer.write(str(item.options["send"]).encode())
            await writer.drain()
        expect = str(item.options.get("expect", "")).encode()
        seen = b""
        while expect and expect not in seen and len(seen) < 65_536:
            chunk = await reader.read(4096)
            if not chunk:
                break
            seen += chunk
    finally:
        writer.close()
        await writer.wait_closed()
    timings = Timings(connect=connect)
    if expect and expect not in seen:
        return False, None, f"expected {expect.decode()!r}, got {seen[:60]!r}", timings, None
    return True, None, "", timings, None


async def probe_dns(item: Monitor, _client: httpx.AsyncClient) -> Outcome:
    """Ask for the record (at ``nameserver`` if set); check ``expected`` is among the answers."""
    record = str(item.options.get("record", "A"))
    start = time.perf_counter()
    if "nameserver" in item.options:
        host, port = _host_port(str(item.options["nameserver"]))
        query = dns.message.make_query(item.target, record)
        reply = await dns.asyncquery.udp(query, host, port=port, timeout=item.timeout_s)
        answers = [str(r) for rrset in reply.answer for r in rrset]
        code = int(reply.rcode())
    else:
        resolver = dns.asyncresolver.Resolver()
        found = await resolver.resolve(item.target, record, lifetime=item.timeout_s)
        answers, code = [str(r) for r in found], 0  # the resolver raises on an error code
    timings = Timings(dns=_ms(start))
    if code != 0:
        return False, code, f"DNS answer code {code}", timings, None
    if not answers:
        return False, code, f"no {record} record", timings, None
    wanted = item.options.get("expected")
    if wanted is not None and str(wanted).rstrip(".") not in {a.rstrip(".") for a in answers}:
        return False, code, f"{record} is {', '.join(answers)}, not {wanted}", timings, None
    return True, code, "", timings, None


async def probe_tls(item: Monitor, _client: httpx.AsyncClient) -> Outcome:
    """Complete a TLS handshake and read how many days the certificate has left."""
    host, port = _host_port(item.target)
    context = ssl.create_default_context()
    # Read the certificate whatever its state: an expiring or self-signed one is what we report.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    start = time.perf_counter()
    _reader, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
    handshake = _ms(start)
    try:
        transport_ssl = writer.get_extra_info("ssl_object")
        der = transport_ssl.getpeercert(binary_form=True) if transport_ssl else None
    finally:
        writer.close()
        await writer.wait_closed()
    if not der:
        return False, None, "no certificate", Timings(tls=handshake), None
    expires = x509.load_der_x509_certificate(der).not_valid_after_utc
    days = round((expires - datetime.now(UTC)).total_seconds() / 86_400, 3)
    minimum = float(item.options.get("min_days", 0))
    if days < minimum:
        state = "expired" if days < 0 else f"expires in {days:.1f} days"
        return False, None, f"certificate {state}", Timings(tls=handshake), days
    return True, None, "", Timings(tls=handshake), days


PROBES: Registry[Probe] = Registry(
    "probe type",
    [
        (MonitorKind.HTTP.value, probe_http),
        (MonitorKind.TCP.value, probe_tcp),
        (MonitorKind.DNS.value, probe_dns),
        (MonitorKind.TLS.value, probe_tls),
    ],
)


async def _attempt(item: Monitor, client: httpx.AsyncClient) -> tuple[Outcome, float]:
    start = time.perf_counter()
    try:
        outcome = await asyncio.wait_for(
            PROBES.get(item.kind.value)(item, client), timeout=item.timeout_s
        )
    except TimeoutError:
        outcome = (False, None, f"timed out after {item.timeout_s:g} s", _NO_TIMINGS, None)
    except (OSError, httpx.HTTPError, dns.exception.DNSException, ssl.SSLError, ValueError) as exc:
        outcome = (False, None, f"{type(exc).__name__}: {exc}"[:300], _NO_TIMINGS, None)
    return outcome, _ms(start)


async def probe(
    item: Monitor,
    client: httpx.AsyncClient,
    *,
    agent: str = "local",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    retry_pause_s: float = 0.2,
) -> ProbeResult:
    """Probe ``item`` once (retrying a failure ``retries`` times) and return what was found."""
    at = now()
    attempts = 0
    while True:
        attempts += 1
        (ok, status, error, timings, days), latency = await _attempt(item, client)
        if ok or attempts > item.retries:
            break
        await asyncio.sleep(retry_pause_s)
    return ProbeResult(item.id, agent, at, ok, latency, status, error, timings, days, attempts)
