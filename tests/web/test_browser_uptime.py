"""The uptime console in a real browser: a lead follows its monitor, SLO burn and incidents,
and anyone reads the public status page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from tests.web.test_browser import browser, live, sign_in

from bastion import uptime
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.uptime import config
from bastion.uptime.quorum import MONITOR_SCHEMA, minutes

pytestmark = pytest.mark.browser

__all__ = ["browser", "live"]  # the live server and the browser of the console's browser tests
ACTOR = Actor.cli("test")
EVERYTHING = Scope.everything()


def _history(live: dict[str, Any], monitor_id: int) -> None:
    """An hour of results from three agents; the last ten minutes down at two of them."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    rows = [
        {"monitor": monitor_id, "agent": agent, "at": now - timedelta(minutes=60 - m, seconds=-5),
         "ok": m < 50 or agent == "leeds", "latency_ms": 20.0 + m}
        for m in range(60) for agent in ("london", "leeds", "cardiff")
    ]  # fmt: skip
    history = config.history(live["settings"])
    monitors = pl.DataFrame({"monitor": [monitor_id], "interval_s": [60], "quorum": [2]},
                            schema=MONITOR_SCHEMA)  # fmt: skip
    for hour in history.append_raw(pl.DataFrame(rows), "browser"):
        history.write_minutes(hour, minutes(history.raw(hour), monitors))


def test_lead_follows_its_monitor_slo_and_incidents_and_the_status_page_is_public(
    live: dict[str, Any], browser: Any
) -> None:
    with live["store"].session() as session:
        mine = uptime.add_monitor(session, uptime.monitor(
            "portal", "http", "http://127.0.0.1:9/", org="RAL", service="Portal", public=True,
        ), actor=ACTOR, scope=EVERYTHING)  # fmt: skip
        uptime.add_monitor(session, uptime.monitor(
            "theirs", "http", "http://127.0.0.1:9/", org="RJ1", service="Records",
        ), actor=ACTOR, scope=EVERYTHING)  # fmt: skip
        slo = uptime.add_slo(session, uptime.Slo("RAL", "Portal", 0.999), actor=ACTOR,
                             scope=EVERYTHING)  # fmt: skip
        uptime.open_incident(session, "RAL", "Portal", "Portal is down", actor=ACTOR,
                             scope=EVERYTHING)  # fmt: skip
        uptime.add_status_page(session, "ral-portal", "Royal Free services", "RAL", ["Portal"],
                               actor=ACTOR, scope=EVERYTHING)  # fmt: skip
    _history(live, mine.id)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live["url"], live["lead"], "/uptime")
    rows = page.locator("#monitor-table tbody tr")
    assert rows.count() == 1  # RJ1's monitor is not the lead's to see
    assert "theirs" not in page.content()
    page.click("#monitor-table a")
    page.wait_for_selector("#latency-chart svg polyline")
    assert "83.3333%" in page.locator("#availability").inner_text()  # 50 of 60 minutes up
    page.goto(f"{live['url']}/uptime/slos")
    assert page.locator(f"#slo-table tr[data-slo='{slo.id}']").count() == 1
    page.click("#slo-table a")
    page.wait_for_selector("#burn-chart svg")
    assert "Error budget left: -" in page.locator("#budget").inner_text()  # overspent
    assert page.locator("[data-rule='page:1h/5m']").count() == 1
    page.goto(f"{live['url']}/uptime/incidents")
    assert "Portal is down" in page.locator(".incident h2").inner_text()
    assert errors == []
    context.close()
    # The status page needs no sign-in and shows only the owner's public service.
    anonymous = browser.new_context()
    status = anonymous.new_page()
    status.goto(f"{live['url']}/status/ral-portal")
    assert status.locator("#status-title").inner_text() == "Royal Free services"
    assert status.locator(".service").get_attribute("data-service") == "Portal"
    assert status.locator(".strip rect").count() == 90
    assert "Portal is down" in status.content()
    assert "Records" not in status.content()
    anonymous.close()
