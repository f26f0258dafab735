"""The uptime console in a real browser: a lead follows its monitor, SLO burn and incidents,
and anyone reads the public status page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from tests.web.browsing import open_page
from tests.web.test_browser import browser, live, sign_in

from bastion import uptime
from bastion.audit import Actor
from bastion.boundary.pipeline import Pipeline
from bastion.core.scope import Scope
from bastion.uptime import config
from bastion.uptime.certificates import warn
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


def _traffic(live: dict[str, Any]) -> None:
    """The portal's proxy log (4 requests, one 503, 40 to 150 ms) ingested for RAL."""
    with live["store"].session() as session:
        uptime.add_monitor(session, uptime.monitor(
            "portal-web", "http", "https://portal.royalfree.test/", org="RAL", service="Portal",
        ), actor=ACTOR, scope=EVERYTHING)  # fmt: skip
    at = datetime.now(UTC) - timedelta(hours=1)
    log = live["settings"].data_dir / "portal-proxy.log"
    log.write_text("".join(
        f"{at.timestamp() + i:.3f} {ms:>6} 10.20.0.9 TCP_MISS/{code} 900 GET "
        f"https://portal.royalfree.test/login - HIER_DIRECT/198.18.0.1 text/html\n"
        for i, (ms, code) in enumerate([(40, 200), (90, 200), (110, 503), (150, 200)])
    ))  # fmt: skip
    pipeline = Pipeline.open(live["store"], live["settings"], default_org="RAL")
    [stats] = pipeline.ingest_paths([log], "squid")
    assert stats.events == 4


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
    with live["store"].session() as session:  # the centre found its certificate expiring
        expiring = pl.DataFrame({"org": ["RAL"], "sha256": ["ab" * 32], "threshold": [7],
                                 "days_left": [5.5], "monitor": [mine.id]})  # fmt: skip
        warn(session, None, expiring, {mine.id: mine}, (7, 30), datetime.now(UTC))
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["lead"], "/uptime")
    rows = page.locator("#monitor-table tbody tr")
    assert rows.count() == 1  # RJ1's monitor is not the lead's to see
    assert "theirs" not in page.content()
    assert page.locator(f"#certificate-table tr[data-monitor='{mine.id}']").count() == 1
    assert "5.5" in page.locator("#certificate-table tbody").inner_text()
    page.click("#monitor-table a")
    page.wait_for_selector("#latency-chart svg polyline")
    assert "83.3333%" in page.locator("#availability").inner_text()  # 50 of 60 minutes up
    page.goto(f"{live['url']}/uptime/slos")
    assert page.locator(f"#slo-table tr[data-slo='{slo.id}']").count() == 1
    page.click("#slo-table a")
    page.wait_for_selector("#burn-chart svg")
    assert "Error budget left: -" in page.locator("#budget").inner_text()  # overspent
    assert page.locator("[data-rule='page:1h/5m']").count() == 1
    # Real users' traffic: the portal's web server log, read from the boundary's archive.
    _traffic(live)
    page.click("#traffic-1")
    page.wait_for_selector("#traffic-table")
    assert page.locator("#traffic-ratio").inner_text().startswith("75.0000% of 4 requests")
    row = page.locator("#traffic-table tr[data-host='portal.royalfree.test']").inner_text()
    assert row.split() == [
        "portal.royalfree.test",
        "4",
        "1",
        "4",
        "100",
        "ms",
        "144",
        "ms",
        "149",
        "ms",
    ]
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
