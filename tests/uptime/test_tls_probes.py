"""STARTTLS (SMTP, IMAP, POP3), certificate verification and ICMP echo, all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from tests.advisories.smtp import Mailbox, _free_port
from tests.uptime.servers import Behaviour, http_server, server_context, starttls_server, tls_server
from tests.uptime.test_probes import _run

from bastion.core.errors import InputError
from bastion.uptime import Agent, Monitor, ProbeResult, monitor, probe
from bastion.uptime.handshake import Certificate


@contextmanager
def smtp_server(context: ssl.SSLContext | None) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) offering STARTTLS when given a ``context``."""
    port = _free_port()
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=port, tls_context=context)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _mail(kind: str, port: int, protocol: str, **options: Any) -> Monitor:
    return monitor(
        "mail", kind, f"127.0.0.1:{port}", org="RAL", service="Mail", timeout_s=3,
        options={"starttls": protocol, **options},
    )  # fmt: skip


def _fingerprint(folder: Path) -> str:
    der = ssl.PEM_cert_to_DER_cert((folder / "cert.pem").read_text())
    return hashlib.sha256(der).hexdigest()


def test_smtp_starttls_upgrades_and_reads_the_certificate(tmp_path: Path) -> None:
    with smtp_server(server_context(tmp_path, days=20)) as port:
        result = _run(_mail("tls", port, "smtp"))
        strict = _run(_mail("tls", port, "smtp", min_days=30))
        tcp = _run(_mail("tcp", port, "smtp", send="NOOP\r\n", expect="250"))
    assert result.ok, result.error
    assert result.days_left is not None
    assert 19.9 < result.days_left < 20.1
    assert result.cert_sha256 == _fingerprint(tmp_path)
    assert result.timings.connect is not None
    assert result.timings.tls is not None
    assert (strict.ok, strict.error) == (False, "certificate expires in 20.0 days")
    # A tcp monitor with starttls speaks over the upgraded connection: NOOP is answered in TLS.
    assert tcp.ok, tcp.error
    assert tcp.cert_sha256 == result.cert_sha256


def test_an_smtp_server_without_starttls_fails_saying_so() -> None:
    with smtp_server(None) as port:
        result = _run(_mail("tls", port, "smtp"))
    assert not result.ok
    assert result.error == "HandshakeError: the SMTP server does not offer STARTTLS"
    assert result.days_left is None


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_imap_and_pop3_starttls(tmp_path: Path, protocol: str) -> None:
    context = server_context(tmp_path, days=3)
    with starttls_server(context, protocol) as port:
        result = _run(_mail("tls", port, protocol, min_days=2))
    assert result.ok, result.error
    assert result.days_left is not None
    assert 2.9 < result.days_left < 3.1
    with starttls_server(context, protocol, refuse=True) as port:
        refused = _run(_mail("tls", port, protocol))
    assert not refused.ok
    assert refused.error.startswith("HandshakeError: ST")
    assert "the server said" in refused.error


def test_an_https_probe_reports_the_certificate_it_met(tmp_path: Path) -> None:
    with http_server(Behaviour(), tls=server_context(tmp_path, days=12)) as url:
        trust = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))

        async def once() -> ProbeResult:
            async with httpx.AsyncClient(verify=trust) as client:
                item = monitor("web", "http", url, org="RAL", service="P", timeout_s=3)
                return await probe(item, client, agent="test")

        result = asyncio.run(once())
    assert result.ok, result.error
    assert result.timings.tls is not None
    assert result.cert_sha256 == _fingerprint(tmp_path)
    assert result.days_left is not None
    assert 11.9 < result.days_left < 12.1


def test_verify_checks_the_chain_and_the_name(tmp_path: Path) -> None:
    with tls_server(tmp_path, days=40) as port:
        target = f"127.0.0.1:{port}"

        def check(**options: Any) -> Any:
            return _run(monitor("cert", "tls", target, org="RAL", service="P", timeout_s=2,
                                options=options))  # fmt: skip

        unverified = check()
        self_signed = check(verify=True)
        trusted = check(verify="true", ca_pem=(tmp_path / "cert.pem").read_text())
    assert unverified.ok
    assert not self_signed.ok
    assert "certificate verify failed" in self_signed.error
    assert trusted.ok, trusted.error
    assert trusted.cert_sha256 == _fingerprint(tmp_path)


def test_starttls_must_be_a_known_protocol_and_ca_pem_a_certificate() -> None:
    with pytest.raises(InputError, match="starttls is one of smtp, imap, pop3"):
        monitor("m", "tls", "127.0.0.1:25", org="RAL", service="P",
                options={"starttls": "ftp"})  # fmt: skip
    with pytest.raises(InputError, match="ca_pem is the PEM text"):
        monitor("m", "tls", "127.0.0.1:25", org="RAL", service="P",
                options={"ca_pem": "/etc/ssl/certs/ca.pem"})  # fmt: skip


def test_certificate_days_left_counts_from_now() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 12, 7, tzinfo=UTC)
    cert = Certificate("ab", "CN=x", now + timedelta(days=2, hours=12))
    assert cert.days_left(now) == 2.5


def _icmp_allowed() -> bool:
    low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    return os.geteuid() == 0 or low <= os.getegid() <= high


def test_icmp_echo_to_loopback_or_a_clear_refusal() -> None:
    item = monitor("ping", "icmp", "127.0.0.1", org="RAL", service="P", timeout_s=2)
    result = _run(item)
    if _icmp_allowed():
        assert result.ok, result.error
        assert result.timings.first_byte is not None
    else:  # never a guess: the probe says why it cannot ping
        assert not result.ok
        assert "net.ipv4.ping_group_range" in result.error


def test_icmp_without_a_raw_socket_uses_the_ping_socket_or_says_why_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As a non-root user the probe asks the kernel for the unprivileged ping socket, which
    # net.ipv4.ping_group_range grants or refuses by group: this host's answer, either way.
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    result = _run(monitor("ping", "icmp", "127.0.0.1", org="RAL", service="P", timeout_s=2))
    if low <= os.getegid() <= high:
        assert result.ok, result.error
    else:
        assert not result.ok
        assert result.error.startswith("ICMP echo is not allowed to this agent")
        assert f"'{low} {high}'" in result.error


def test_an_agent_that_may_not_ping_skips_icmp_monitors_saying_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # not root: the kernel's ping socket
    low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    ping = replace(monitor("ping", "icmp", "127.0.0.1", org="RAL", service="P"), id=7)
    web = replace(monitor("web", "http", "http://127.0.0.1:9/", org="RAL", service="P"), id=8)

    async def publish(_frame: Any, _batch: str) -> None:
        return None

    agent = Agent("here", [ping, web], publish)
    if low <= os.getegid() <= high:
        assert (agent.skipped, [m.id for m in agent.monitors]) == ({}, [7, 8])
    else:  # its failures would read as 127.0.0.1 down: it probes the rest and says why
        assert [m.id for m in agent.monitors] == [8]
        assert agent.skipped[7].startswith("ICMP echo is not allowed to this agent")
