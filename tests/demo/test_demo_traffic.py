"""The labelled demo day: its files, its planted attacks, its indicators, and Bastion's parsers."""

from __future__ import annotations

import csv
import hashlib
import importlib
import ipaddress
import json
import pkgutil
import re
from pathlib import Path

import polars as pl
import pytest

import bastion.boundary.parsers as parsers
from bastion.core.errors import InputError
from bastion.demo import generate_federation
from bastion.demo.plant import owner_of
from bastion.demo.rand import Draw
from bastion.demo.traffic import TrafficManifest, demo_indicators, generate_traffic, log_specs
from bastion.demo.world import (
    C2_IPS,
    INTERNET,
    JNDI_URL_PATTERN,
    MALICIOUS_JA3,
    PHISHING_DOMAINS,
    World,
    benign_domains,
    listed,
)
from bastion.orgs import OrgType

ORGS = generate_federation(size="small")
EVENTS = 5_000
# Strings that only a line touching a listed indicator contains.
INDICATOR_TEXT = [*C2_IPS, *PHISHING_DOMAINS, MALICIOUS_JA3, "${jndi:"]
# Attack kinds whose every event carries an indicator's text (a scan and an exfiltration do not).
MARKED_KINDS = {"c2-beacon", "phishing-dns", "phishing-web", "log4shell", "ja3"}
SYSLOG_HEADER = re.compile(r"^<14>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d pa-bdr-0\d ")

for _module in pkgutil.iter_modules(parsers.__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{parsers.__name__}.{_module.name}")


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> TrafficManifest:
    return generate_traffic(ORGS, tmp_path_factory.mktemp("day"), seed=7, events=EVENTS)


def _events(manifest: TrafficManifest, path: str) -> list[str]:
    text = (manifest.out_dir / path).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _panos_record(line: str) -> list[str]:
    return next(csv.reader([SYSLOG_HEADER.sub("", line)]))


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_writes_every_format_with_exactly_the_events_asked_for(day: TrafficManifest) -> None:
    formats = {f.format for f in day.files}
    assert formats == {"panos", "fortigate", "zeek", "nginx", "squid"}
    assert {f.path for f in day.files} >= {f"zeek/{n}.log" for n in ("conn", "dns", "http", "ssl")}
    assert day.events == EVENTS == sum(f.events for f in day.files)
    for log in day.files:
        assert len(_events(day, log.path)) == log.events, log.path
        assert log.attack_events == sum(a.events for a in day.attacks if a.file == log.path)


def test_each_file_is_in_time_order(day: TrafficManifest) -> None:
    seconds = {
        "panos.log": lambda line: line.split(",")[6],
        "zeek/conn.log": lambda line: float(line.split("\t")[0]),
        "squid/access.log": lambda line: float(line.split()[0]),
        "fortigate.log": lambda line: int(re.search(r"eventtime=(\d+)", line)[1]),  # type: ignore[index]
    }
    for path, key in seconds.items():
        stamps = [key(line) for line in _events(day, path)]
        assert stamps == sorted(stamps), path


def test_same_seed_writes_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    generate_traffic(ORGS, tmp_path / "a", seed=3, events=3_000)
    generate_traffic(ORGS, tmp_path / "b", seed=3, events=3_000)
    generate_traffic(ORGS, tmp_path / "c", seed=4, events=3_000)
    a, b, c = (_digest(tmp_path / n) for n in "abc")
    assert a == b
    assert a.keys() == c.keys()
    assert a["panos.log"] != c["panos.log"]


def test_small_chunks_stream_the_same_number_of_events_in_order(tmp_path: Path) -> None:
    manifest = generate_traffic(ORGS, tmp_path, seed=7, events=4_000, chunk_events=300)
    assert manifest.events == 4_000
    lines = _events(manifest, "zeek/dns.log")
    stamps = [float(line.split("\t")[0]) for line in lines]
    assert stamps == sorted(stamps)
    assert len(lines) == next(f.events for f in manifest.files if f.path == "zeek/dns.log")


def test_benign_traffic_never_touches_a_listed_indicator() -> None:
    world = World(ORGS)
    columns = ["src", "dst", "host", "path", "ua", "qname", "sni", "ja3", "answer"]
    for spec in log_specs():
        draw = Draw(99, spec.path)
        frame = spec.benign(world, draw, draw.ints(10_000, 0, 86_400_000_000).sort())
        for column in columns:
            values = frame.get_column(column).drop_nulls()
            hit = values.is_in([*C2_IPS, MALICIOUS_JA3]) | values.str.contains(
                "${jndi:", literal=True
            )
            for domain in PHISHING_DOMAINS:
                hit |= values.str.ends_with(domain)
            assert not hit.any(), (spec.path, column, values.filter(hit).head(3).to_list())
        internet = frame.select(pl.concat([pl.col("src"), pl.col("dst")]).drop_nulls()).to_series()
        outside = internet.filter(~internet.str.contains(r"^(11|21|22|198\.1[89])\."))
        assert outside.is_empty(), (spec.path, outside.head(3).to_list())


def test_benign_names_and_addresses_are_reserved_for_testing() -> None:
    assert not any(listed(d) for d in benign_domains())
    assert all(d.endswith(".test") for d in benign_domains())
    addresses = World(ORGS).internet(Draw(1), 10_000).unique().to_list()
    assert all(ipaddress.ip_address(a) in INTERNET for a in addresses)


def test_only_planted_attack_lines_mention_an_indicator(day: TrafficManifest) -> None:
    for log in day.files:
        mentioning = [
            line for line in _events(day, log.path) if any(t in line for t in INDICATOR_TEXT)
        ]
        expected = sum(
            a.events for a in day.attacks if a.file == log.path and a.kind in MARKED_KINDS
        )
        assert len(mentioning) == expected, log.path


def test_labels_attribute_each_attack_to_the_member_owning_its_host(day: TrafficManifest) -> None:
    types = {o.code: o.type for o in ORGS}
    for attack in day.attacks:
        assert owner_of(attack.host_ip, ORGS) == attack.organisation, attack
        assert attack.events > 0
        assert all(owner_of(ip, ORGS) is None for ip in attack.external_ips)
    hosted = next(a for a in day.attacks if a.kind == "phishing-dns")
    assert types[hosted.organisation] is OrgType.GP_PRACTICE
    enclosing = [
        o.code
        for o in ORGS
        for c in o.networks
        if o.code != hosted.organisation
        and ipaddress.ip_address(hosted.host_ip) in ipaddress.ip_network(c)
    ]
    assert enclosing, "the phishing lookups must come from a block nested in another member's"


def test_every_attack_kind_is_planted_both_blocked_and_allowed(day: TrafficManifest) -> None:
    kinds = {a.kind for a in day.attacks}
    assert kinds == {
        "c2-beacon",
        "phishing-dns",
        "phishing-web",
        "log4shell",
        "ja3",
        "port-scan",
        "exfiltration",
        "beacon",
        "dns-tunnel",
        "benign-periodic",
    }
    assert {a.action for a in day.attacks} == {"blocked", "allowed"}
    for kind in ("c2-beacon", "phishing-web", "log4shell"):
        assert {a.action for a in day.attacks if a.kind == kind} == {"blocked", "allowed"}


def test_indicator_file_lists_exactly_what_the_attacks_use(day: TrafficManifest) -> None:
    with day.indicators.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "type",
        "value",
        "source",
        "severity",
        "confidence",
        "action",
        "threat",
    ]
    assert rows == demo_indicators()
    listed_values = {(r["type"], r["value"]) for r in rows}
    used = {(a.indicator_type, a.indicator) for a in day.attacks if a.indicator}
    assert used == listed_values
    assert ("url_pattern", JNDI_URL_PATTERN) in listed_values


def test_labels_json_is_the_manifest(day: TrafficManifest) -> None:
    labels = json.loads(day.labels.read_text(encoding="utf-8"))
    assert labels == json.loads(json.dumps(day.to_json()))
    first = labels["attacks"][0]
    assert set(first) >= {
        "kind",
        "organisation",
        "host_ip",
        "indicator",
        "format",
        "file",
        "events",
    }


def test_c2_beacons_keep_a_regular_interval(day: TrafficManifest) -> None:
    live = next(a for a in day.attacks if a.kind == "c2-beacon" and a.format == "panos")
    stamps = [
        line.split(",")[6] for line in _events(day, "panos.log") if f",{live.indicator}," in line
    ]
    times = pl.Series(stamps).str.to_datetime("%Y/%m/%d %H:%M:%S").dt.epoch("s")
    gaps = times.diff().drop_nulls()
    assert len(stamps) == live.events
    assert gaps.min() >= 55  # type: ignore[operator]
    assert gaps.max() <= 65  # type: ignore[operator]


def test_port_scan_is_one_source_on_many_ports_of_one_member(day: TrafficManifest) -> None:
    scan = next(a for a in day.attacks if a.kind == "port-scan")
    lines = [
        line
        for line in _events(day, scan.file)
        if f"srcip={scan.external_ips[0]} " in line and f"dstip={scan.host_ip} " in line
    ]
    ports = {re.search(r" dstport=(\d+)", line)[1] for line in lines}  # type: ignore[index]
    assert len(lines) == scan.events >= 100
    assert len(ports) == scan.events
    assert all('action="deny"' in line for line in lines)


def test_exfiltration_sends_gigabytes_to_one_address(day: TrafficManifest) -> None:
    exfil = next(a for a in day.attacks if a.kind == "exfiltration")
    rows = [
        _panos_record(line)
        for line in _events(day, exfil.file)
        if f",{exfil.host_ip},{exfil.external_ips[0]}," in line
    ]
    assert len(rows) == exfil.events
    assert sum(int(r[32]) for r in rows) > 2_000_000_000  # bytes sent


def test_panos_records_have_the_documented_field_counts(day: TrafficManifest) -> None:
    counts: dict[str, set[int]] = {"TRAFFIC": set(), "THREAT": set()}
    for line in _events(day, "panos.log"):
        assert SYSLOG_HEADER.match(line)
        record = _panos_record(line)
        counts[record[3]].add(len(record))
    assert counts == {"TRAFFIC": {75}, "THREAT": {79}}


def test_zeek_lines_have_as_many_fields_as_their_header(day: TrafficManifest) -> None:
    for name in ("conn", "dns", "http", "ssl"):
        lines = (day.out_dir / f"zeek/{name}.log").read_text(encoding="utf-8").splitlines()
        fields = next(line for line in lines if line.startswith("#fields")).split("\t")[1:]
        assert lines[-1].startswith("#close")
        widths = {len(line.split("\t")) for line in lines if not line.startswith("#")}
        assert widths == {len(fields)}, name
    assert "ja3" in fields


def test_registered_parsers_read_every_file_without_rejects(day: TrafficManifest) -> None:
    checked = set()
    for log in day.files:
        if log.format not in parsers.PARSERS:
            continue
        lines = pl.Series((day.out_dir / log.path).read_text(encoding="utf-8").splitlines())
        context = parsers.ParseContext(source=log.path, default_year=day.day.year)
        result = parsers.get_parser(log.format).parse(lines, context)
        assert result.rejects.height == 0, (log.path, result.rejects.head(3).to_dicts())
        assert result.events.height == log.events, log.path
        checked.add(log.format)
    assert checked >= {"zeek", "fortigate", "nginx", "squid"}


def test_events_out_of_range_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="events"):
        generate_traffic(ORGS, tmp_path, events=10)
