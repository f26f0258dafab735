"""Fixtures of the cases tests: a federation of three trusts, each with one indicator alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from bastion import orgs
from bastion.alerts import list_alerts, record_alerts
from bastion.audit import Actor
from bastion.store import Store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BAD_IP = "203.0.113.66"
ACTOR = Actor.cli("analyst")


def indicator_hit(org: str, value: str = BAD_IP, minute: int = 0) -> dict[str, Any]:
    """One candidate event: ``org``'s host hit the indicator ``value``."""
    return {
        "organization.id": org, "host.ip": "10.0.0.5", "@timestamp": T0 + timedelta(minutes=minute),
        "kind": "indicator", "key": f"ipv4:{value}", "title": f"Connection to {value}",
        "severity": "high", "blocked": False, "indicator.type": "ipv4", "indicator.value": value,
        "indicator.source": "feed", "indicator.threat": "c2", "event.original": "raw",
        "log.file.path": "/l", "log.offset": minute, "event.dataset": "panos.traffic",
    }  # fmt: skip


@pytest.fixture
def federation(sqlite_store: Store) -> dict[str, int]:
    """RAL, RJ1 and RKE, each with one alert on the same C2 address; return alert ids by org."""
    with sqlite_store.session() as session:
        for code, name in (("RAL", "Royal Free"), ("RJ1", "St Thomas"), ("RKE", "Whittington")):
            contact = orgs.Contact("Sec", f"sec@{code.lower()}.example", "CISO")
            organisation = orgs.Organisation(code, name, orgs.OrgType.TRUST, contacts=(contact,))
            orgs.save_organisation(session, organisation, actor=ACTOR)
        record_alerts(session, pl.DataFrame([indicator_hit(o) for o in ("RAL", "RJ1", "RKE")]))
    with sqlite_store.session() as session:
        found, _ = list_alerts(session)
    return {a.org or "": a.id for a in found}
