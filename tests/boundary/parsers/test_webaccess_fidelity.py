"""Access-log fidelity (issue 23): virtual-host layouts, never a name in an address column."""

from __future__ import annotations

import polars as pl
import pytest

from bastion.boundary.parsers import ParseContext, get_parser
from bastion.boundary.parsers.fields import pattern_verdict
from bastion.boundary.parsers.squid import VERDICTS as SQUID_VERDICTS

REST = '[25/Nov/2025:13:01:04 +0000] "GET /index.html HTTP/1.1" 200 1024 "-" "Mozilla/5.0"'


def row(fmt: str, line: str) -> dict[str, object]:
    result = get_parser(fmt).parse(pl.Series([line]), ParseContext())
    assert result.rejects.height == 0, result.rejects.to_dicts()
    return result.events.row(0, named=True)


@pytest.mark.parametrize(
    ("prefix", "client", "domain", "ip", "port"),
    [
        ("www.example.org 203.0.113.5", "203.0.113.5", "www.example.org", None, None),
        ("www.example.org:443 203.0.113.5", "203.0.113.5", "www.example.org", None, 443),
        ("shop.example.org:8443 2001:db8::77", "2001:db8::77", "shop.example.org", None, 8443),
        ("192.0.2.80:8080 198.51.100.9", "198.51.100.9", None, "192.0.2.80", 8080),
        ("192.0.2.80 198.51.100.9", "198.51.100.9", None, "192.0.2.80", None),
        ("intranet.example.org:80 client7.corp.example", None, "intranet.example.org", None, 80),
        ("198.51.100.9", "198.51.100.9", None, None, None),
        ("client8.corp.example", None, None, None, None),
    ],
)
def test_the_virtual_host_goes_to_the_server_and_the_client_to_the_source(
    prefix: str, client: str | None, domain: str | None, ip: str | None, port: int | None
) -> None:
    got = row("nginx", f"{prefix} - - {REST}")
    assert got["source.ip"] == client
    assert (got["url.domain"], got["destination.ip"], got["destination.port"]) == (
        domain,
        ip,
        port,
    )
    assert (got["url.path"], got["http.response.status_code"]) == ("/index.html", 200)


def test_the_access_log_user_is_user_name() -> None:
    assert row("nginx", f"vhost.example 192.0.2.1 - mary {REST}")["user.name"] == "mary"
    assert row("nginx", f"192.0.2.1 - - {REST}")["user.name"] is None


def test_a_squid_client_name_is_not_put_in_source_ip() -> None:
    line = (
        "1748858409.008     40 client14.corp.example TCP_MISS/200 700 GET "
        "http://www.example.com/ - HIER_DIRECT/www.example.com text/html"
    )
    got = row("squid", line)
    assert (got["source.ip"], got["destination.ip"], got["url.domain"]) == (
        None,
        None,
        "www.example.com",
    )


def test_squid_result_codes_map_through_one_table_and_unknown_codes_are_null() -> None:
    codes = ["TCP_MISS", "TCP_MEM_HIT", "TCP_DENIED_REPLY", "UDP_DENIED", "TCP_TUNNEL"]
    codes += ["TCP_REDIRECT", "NONE", "TAG_NONE", "TCP_NEWFANGLED", "MISSING_HIT_X"]
    frame = pl.DataFrame({"code": codes})
    got = frame.select(pattern_verdict(pl.col("code"), SQUID_VERDICTS)).to_series().to_list()
    assert got == ["allowed", "allowed", "denied", "denied", "allowed"] + [None] * 4 + ["allowed"]
