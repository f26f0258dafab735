"""Each probe type against a local stand-in: what passes, what fails and why."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.uptime.servers import Behaviour, dns_server, echo_server, http_server, tls_server

from bastion.core.errors import InputError
from bastion.uptime import Monitor, ProbeResult, monitor, probe
from bastion.uptime.probes import json_path


def _run(item: Monitor) -> ProbeResult:
    async def once() -> ProbeResult:
        async with httpx.AsyncClient() as client:
            return await probe(item, client, agent="test", retry_pause_s=0)

    return asyncio.run(once())


def _http(url: str, **options: Any) -> Monitor:
    return monitor("api", "http", url, org="RAL", service="Portal", timeout_s=2, options=options)


def test_http_probe_checks_status_keyword_json_path_and_header_and_times_the_steps() -> None:
    behaviour = Behaviour()
    with http_server(behaviour) as url:
        good = _run(_http(url, keyword="ok", json_path="$.db.up", json_value="True",
                          header="X-Service", header_value="demo"))  # fmt: skip
        assert good.ok, good.error
        assert good.status == 200
        assert good.timings.connect is not None
        assert good.timings.first_byte is not None
        assert good.timings.tls is None  # plain HTTP: no handshake
        assert _run(_http(url, keyword="missing")).error == "keyword 'missing' not in the body"
        assert "not 'down'" in _run(_http(url, json_path="$.status", json_value="down")).error
        assert not _run(_http(url, header="X-Absent")).ok
        behaviour.status = 503
        down = _run(_http(url))
        assert (down.ok, down.status, down.error) == (False, 503, "HTTP 503")
        assert _run(_http(url, accepted="200-299,503")).ok


def test_http_probe_that_times_out_is_down_after_its_retries() -> None:
    with http_server(Behaviour(delay_s=0.5)) as url:
        item = monitor("slow", "http", url, org="RAL", service="P", timeout_s=0.2, retries=1)
        result = _run(item)
    assert not result.ok
    assert result.attempts == 2
    assert result.error.startswith("timed out")


def test_tcp_probe_sends_and_expects() -> None:
    with echo_server() as port:
        target = f"127.0.0.1:{port}"
        opts = {"send": "PING\r\n", "expect": "PING"}
        item = monitor("echo", "tcp", target, org="RAL", service="P", timeout_s=2, options=opts)
        assert _run(item).ok
        wrong = {"send": "PING\r\n", "expect": "PONG"}
        item = monitor("echo", "tcp", target, org="RAL", service="P", timeout_s=1, options=wrong)
        assert not _run(item).ok
    closed = monitor("none", "tcp", f"127.0.0.1:{port}", org="RAL", service="P", timeout_s=1)
    assert "Error" in _run(closed).error


def test_dns_probe_checks_the_expected_answer() -> None:
    with dns_server({("portal.nhs.test", "A"): "127.0.0.7"}) as port:
        ns = f"127.0.0.1:{port}"

        def item(name: str, expected: str) -> Monitor:
            options = {"record": "A", "expected": expected, "nameserver": ns}
            return monitor("dns", "dns", name, org="RAL", service="P", timeout_s=2, options=options)

        assert _run(item("portal.nhs.test", "127.0.0.7")).ok
        assert "not 127.0.0.8" in _run(item("portal.nhs.test", "127.0.0.8")).error
        assert _run(item("absent.nhs.test", "127.0.0.7")).error == "DNS answer code 3"


def test_tls_probe_reads_days_to_expiry(tmp_path: Path) -> None:
    with tls_server(tmp_path, days=5) as port:
        target = f"127.0.0.1:{port}"
        fine = monitor("cert", "tls", target, org="RAL", service="P", timeout_s=2)
        strict = monitor("cert", "tls", target, org="RAL", service="P", timeout_s=2,
                         options={"min_days": 14})  # fmt: skip
        result = _run(fine)
        assert result.ok
        assert result.days_left is not None
        assert 4.9 < result.days_left < 5.1
        assert _run(strict).error.startswith("certificate expires in 5")


def test_json_path_walks_objects_and_lists() -> None:
    assert json_path({"a": [{"b": 3}]}, "$.a[0].b") == 3
    with pytest.raises(KeyError):
        json_path({"a": 1}, "$.b")


@pytest.mark.parametrize(
    ("kind", "target", "fields"),
    [
        ("http", "ftp://x", {}),
        ("tcp", "127.0.0.1", {}),
        ("http", "http://127.0.0.1", {"interval_s": 5}),
        ("http", "http://127.0.0.1", {"options": {"expect": "x"}}),
        ("dns", "a.test", {"options": {"record": "SOA"}}),
        ("icmp", "http://127.0.0.1/", {}),
        ("tls", "127.0.0.1:465", {"options": {"starttls": "ftp"}}),
    ],
)
def test_bad_monitors_are_refused_with_a_reason(
    kind: str, target: str, fields: dict[str, Any]
) -> None:
    with pytest.raises(InputError):
        monitor("m", kind, target, org="RAL", service="P", **fields)
