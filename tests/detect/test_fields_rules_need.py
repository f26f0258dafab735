"""Rules that test fields some logs lack: they run, and fire only where they should.

Three SigmaHQ rules were once silenced because they test fields Bastion did not keep:
"DNS Events Related To Mining Pools" (Zeek DNS ``answers``/``rejected``), "Suspicious
DNS Z Flag Bit Set" (Zeek DNS ``Z``) and "Webshell ReGeorg Detection Via Web Logs"
(``cs-referer: null``). Each is read from the shared SigmaHQ rules and run on logs
parsed by Bastion's own parsers.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from bastion.boundary.parsers import ParseContext, get_parser
from bastion.detect import RuleSet, load_ruleset, load_texts

ZEEK_HEADER = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tdns",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery"
    "\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers"
    "\tTTLs\trejected",
]


def _dns(query: str, *, z: int = 0, answers: str = "198.51.100.7", rejected: str = "F") -> str:
    return (
        f"1521911720.865716\tCx\t10.47.1.100\t41772\t10.0.0.100\t53\tudp\t1\t0.0008\t{query}"
        f"\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t{z}\t{answers}\t60.0\t{rejected}"
    )


def _rule(shared_data: Path, relative: str) -> RuleSet:
    rules = load_ruleset([shared_data / "sigma" / "rules" / relative])
    assert len(rules.rules) == 1, rules.reports
    assert not rules.rules[0].detection.never
    return rules


def _hits(rules: RuleSet, fmt: str, lines: list[str]) -> list[int]:
    parsed = get_parser(fmt).parse(pl.Series(lines), ParseContext(source="test"))
    assert parsed.rejects.height == 0, parsed.rejects
    return sorted(rules.evaluate(parsed.events).get_column("row").to_list())


def test_mining_pool_lookups_fire_unless_sinkholed_or_rejected(shared_data: Path) -> None:
    rules = _rule(shared_data, "network/zeek/zeek_dns_mining_pools.yml")
    lines = [
        _dns("pool.monerohash.com"),  # answered: fires
        _dns("pool.monerohash.com", answers="-"),  # no answer: fires
        _dns("pool.monerohash.com", answers="0.0.0.0"),  # sinkholed: excluded
        _dns("pool.monerohash.com", answers="127.0.0.1"),  # sinkholed: excluded
        _dns("pool.monerohash.com", rejected="T"),  # rejected: excluded
        _dns("www.nhs.uk"),  # not a mining pool
        _dns("POOL.MONEROHASH.COM", answers="a.example,192.0.2.1"),
    ]
    assert _hits(rules, "zeek", [*ZEEK_HEADER, *lines]) == [0, 1, 6]


def test_z_flag_rule_fires_only_where_z_is_set(shared_data: Path) -> None:
    rules = _rule(shared_data, "network/zeek/zeek_dns_susp_zbit_flag.yml")
    lines = [
        _dns("update.example.com", z=1),
        _dns("update.example.com"),
        _dns("x.in-addr.arpa", z=1),
    ]
    assert _hits(rules, "zeek", [*ZEEK_HEADER, *lines]) == [0]
    # A real Zeek DNS log: Z is set on one query in twenty, all of them NetBIOS status
    # lookups to port 137, which the rule excludes; with Z unread, every query would fire.
    with gzip.open(shared_data / "zeek" / "dns.log.gz", "rt", encoding="utf-8") as f:
        real = f.read().splitlines()
    events = get_parser("zeek").parse(pl.Series(real), ParseContext(source="dns.log")).events
    z = events.get_column("dns.z")
    assert z.null_count() == 0
    assert 0 < int((z != 0).sum()) < events.height // 10
    assert rules.evaluate(events).height == 0
    set_z = events.with_columns(pl.lit(1, pl.Int8).alias("dns.z"))
    ports = set_z.get_column("destination.port")
    assert rules.evaluate(set_z).height > int((ports != 137).sum()) // 2


def test_regeorg_fires_on_a_bare_post_with_its_commands(shared_data: Path) -> None:
    rules = _rule(shared_data, "web/webserver_generic/web_webshell_regeorg.yml")

    def line(method: str, target: str, referer: str = "-", agent: str = "-") -> str:
        return (
            f'203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "{method} {target} HTTP/1.1" 200 12 '
            f'"{referer}" "{agent}"'
        )

    lines = [
        line("POST", "/tunnel.jsp?cmd=connect&target=10.0.0.5&port=3389"),
        line("POST", "/tunnel.jsp?cmd=connect&target=10.0.0.5", referer="https://a.example/"),
        line("POST", "/tunnel.jsp?cmd=read", agent="Mozilla/5.0"),
        line("GET", "/tunnel.jsp?cmd=disconnect"),
        line("POST", "/index.php?page=home"),
    ]
    assert _hits(rules, "nginx", lines) == [0]


@pytest.mark.parametrize("field", ["dns.answers", "dns.rejected", "dns.z"])
def test_zeek_json_agrees_with_tsv_on_the_dns_fields(field: str) -> None:
    tsv = [*ZEEK_HEADER, _dns("a.example", z=1, answers="b.example,192.0.2.1", rejected="T")]
    record = (
        '{"_path":"dns","ts":1521911720.865716,"id.orig_h":"10.47.1.100","id.orig_p":41772,'
        '"id.resp_h":"10.0.0.100","id.resp_p":53,"proto":"udp","trans_id":1,"query":"a.example",'
        '"qtype_name":"A","rcode_name":"NOERROR","Z":1,"answers":["b.example","192.0.2.1"],'
        '"rejected":true}'
    )
    context = ParseContext(source="test")
    a = get_parser("zeek").parse(pl.Series(tsv), context).events.get_column(field).to_list()
    b = get_parser("zeek-json").parse(pl.Series([record]), context).events
    assert a == b.get_column(field).to_list()
    assert a[0] in ("b.example,192.0.2.1", True, 1)


# SigmaHQ's OMIGOD rule (CVE-2021-38647) is not among the shared rules; this one has its
# shape, written here: a POST to OMI's /wsman that succeeded with no Authorization header.
# (Zeek's ``uri`` maps to url.full, which is http:// + host + uri, so it says endswith.)
# Zeek writes request header names only with a policy script loaded, and Bastion keeps no
# column for them, so the filter's field is absent: null, and "not filter" is true.
OMI_SHAPED = """
title: OMI management request without an Authorization header
id: 0c2b9f52-6a55-4f5e-9f0f-3f3b1c2d4e5a
logsource:
  product: zeek
  service: http
detection:
  selection:
    status_code: 200
    uri|endswith: /wsman
    method: POST
  auth_header:
    client_header_names|contains: 'AUTHORIZATION'
  condition: selection and not auth_header
level: high
"""


def test_a_rule_filtering_on_an_absent_field_runs_and_fires() -> None:
    rules = RuleSet(load_texts([("omi.yml", OMI_SHAPED)]).rules)
    (rule,) = rules.rules
    assert not rule.detection.never
    assert rule.detection.needs.missing == {"client_header_names"}
    header = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\thttp",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost"
        "\turi\tstatus_code\tuser_agent",
    ]

    def line(method: str, uri: str, status: int) -> str:
        return f"1521911720.1\tCx\t203.0.113.9\t40000\t10.0.0.5\t5986\t1\t{method}\t10.0.0.5\t{uri}\t{status}\t-"

    lines = [line("POST", "/wsman", 200), line("POST", "/wsman", 401), line("GET", "/wsman", 200)]
    assert _hits(rules, "zeek", [*header, *lines]) == [0]
