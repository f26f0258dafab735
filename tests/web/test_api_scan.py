"""`/api/v1/scan`: the national view's weekly trend and an organisation's sent digests."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from bastion import scan
from bastion.audit import Actor
from bastion.core.timeutil import utcnow
from bastion.core.types import Severity
from bastion.scan.read import week_of

pytestmark = pytest.mark.anyio
API = "/api/v1/scan"


async def test_national_trend_by_week_and_its_bounds(
    sqlite_app: FastAPI, sqlite_client: httpx.AsyncClient
) -> None:
    observation = scan.Observation(
        "ports", "exposed:smb", "SMB open", Severity.CRITICAL, 445,
        scan.Evidence("SMB negotiate", "ff534d42"), "exposed_service",
        {"service": "SMB", "why": "-"},
    )  # fmt: skip
    now = utcnow()
    with sqlite_app.state.store.session() as session:
        scan.record_outcome(
            session,
            scan.HostOutcome(
                scan.Target("RAL", "h.ral.example", "203.0.113.5", None), [observation]
            ),
            actor=Actor.cli("scanner"),
            now=now,
        )
    answer = await sqlite_client.get(f"{API}/national", params={"weeks": 3})
    assert answer.status_code == 200
    trend = answer.json()["trend"]
    assert [w["week"] for w in trend][-1] == week_of(now).isoformat()
    assert len(trend) == 3
    assert trend[-1]["opened"]["critical"] >= 1
    assert trend[-1]["closed"] == {"critical": 0, "high": 0, "medium": 0, "low": 0}
    for bad in ("0", "105", "x"):
        refused = await sqlite_client.get(f"{API}/national", params={"weeks": bad})
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("weeks: ")
    report = await sqlite_client.get(f"{API}/report/RAL")
    assert report.json()["notices"] == []  # none sent yet: the key is there, empty
    assert report.json()["dkim_selectors"] == []
