"""Probe a monitor once, asynchronously: HTTP(S), TCP, DNS, TLS certificate and ICMP checks.

Each probe type is one coroutine under its name in ``PROBES``; ``probe`` runs the
monitor's, retries a failure ``retries`` times (a short pause between), times
the whole and returns one ``ProbeResult``. An HTTP probe's timing breakdown comes
from the name lookup (timed apart) and httpcore's trace events: connect, TLS
handshake, and the wait for the response's first byte. TLS (direct or after
STARTTLS) is ``bastion.uptime.handshake``'s; an HTTPS, TLS or STARTTLS probe reports
the certificate it met (days left, fingerprint), which the centre watches for expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.message
import dns.rdatatype
import httpx
import icmplib

from bastion.core.registry import Registry
from bastion.uptime.domain import Monitor, MonitorKind, ProbeResult, Timings, accepts, parse_codes
from bastion.uptime.handshake import Certificate, open_tls, peer_certificate

Outcome = tuple[bool, int | None, str, Timings, Certificate | None]
"""ok, status code, error, timings, the TLS certificate met."""
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
    cert = None
    try:
        if parts.scheme == "https" and "network_stream" in answer.extensions:
            stream = answer.extensions["network_stream"]
            cert = peer_certificate(stream.get_extra_info("ssl_object"))
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
        return False, answer.status_code, f"HTTP {answer.status_code}", timings, cert
    error = _content_error(item, answer, body)
    return not error, answer.status_code, error, timings, cert


def _host_port(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


async def probe_tcp(item: Monitor, _client: httpx.AsyncClient) -> Outcome:
    """Connect (and upgrade by ``starttls``); send ``send`` if set, read until ``expect`` comes."""
    host, port = _host_port(item.target)
    cert = None
    if "starttls" in item.options:
        reader, writer, connect, tls = await open_tls(host, port, item.options)
        cert = peer_certificate(writer.get_extra_info("ssl_object"))
    else:
        start = time.perf_counter()
        reader, writer = await asyncio.open_connection(host, port)
        connect, tls = _ms(start), None
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
        await _close(writer)
    timings = Timings(connect=connect, tls=tls)
    if expect and expect not in seen:
        return False, None, f"expected {expect.decode()!r}, got {seen[:60]!r}", timings, cert
    return True, None, "", timings, cert


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):  # the peer went first: no matter
        await writer.wait_closed()


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
    """Complete a TLS handshake (after STARTTLS if set); check the certificate's days left."""
    host, port = _host_port(item.target)
    _reader, writer, connect, handshake = await open_tls(host, port, item.options)
    try:
        cert = peer_certificate(writer.get_extra_info("ssl_object"))
    finally:
        await _close(writer)
    timings = Timings(connect=connect, tls=handshake)
    if cert is None:
        return False, None, "no certificate", timings, None
    days = cert.days_left()
    minimum = float(item.options.get("min_days", 0))
    if days < minimum:
        state = "expired" if days < 0 else f"expires in {days:.1f} days"
        return False, None, f"certificate {state}", timings, cert
    return True, None, "", timings, cert


def _ping_group_range() -> str:
    try:
        return Path("/proc/sys/net/ipv4/ping_group_range").read_text().strip().replace("\t", " ")
    except OSError:
        return "unknown"


def _icmp_refused() -> str:
    return (
        "ICMP echo is not allowed to this agent: it needs root (a raw socket) or a group "
        f"inside net.ipv4.ping_group_range, which is {_ping_group_range()!r} here, and "
        f"it runs as uid {os.geteuid()}, gid {os.getegid()}"
    )


def icmp_refusal() -> str | None:
    """Return why this process may not send ICMP echo requests, or None when it may."""
    kind = socket.SOCK_RAW if os.geteuid() == 0 else socket.SOCK_DGRAM
    try:
        socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP).close()
    except PermissionError:
        return _icmp_refused()
    return None


async def probe_icmp(item: Monitor, _client: httpx.AsyncClient) -> Outcome:
    """Send one ICMP echo request: a raw socket as root, else the unprivileged ping socket."""
    privileged = os.geteuid() == 0
    try:
        host = await icmplib.async_ping(
            item.target, count=1, timeout=max(0.05, item.timeout_s * 0.9), privileged=privileged
        )
    except icmplib.SocketPermissionError:
        return False, None, _icmp_refused(), _NO_TIMINGS, None
    except icmplib.ICMPLibError as exc:
        return False, None, f"{type(exc).__name__}: {exc}"[:300], _NO_TIMINGS, None
    if not host.is_alive:
        return False, None, f"no echo reply within {item.timeout_s:g} s", _NO_TIMINGS, None
    return True, None, "", Timings(first_byte=round(host.avg_rtt, 3)), None


PROBES: Registry[Probe] = Registry(
    "probe type",
    [
        (MonitorKind.HTTP.value, probe_http),
        (MonitorKind.TCP.value, probe_tcp),
        (MonitorKind.DNS.value, probe_dns),
        (MonitorKind.TLS.value, probe_tls),
        (MonitorKind.ICMP.value, probe_icmp),
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
        # HandshakeError (a refused STARTTLS) is a ValueError: its words are the reason
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
        (ok, status, error, timings, cert), latency = await _attempt(item, client)
        if ok or attempts > item.retries:
            break
        await asyncio.sleep(retry_pause_s)
    return ProbeResult(
        item.id, agent, at, ok, latency, status, error, timings,
        None if cert is None else cert.days_left(), attempts,
        None if cert is None else cert.sha256,
    )  # fmt: skip
