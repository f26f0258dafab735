"""The behaviour console in a real browser: results best first, a result's evidence, benign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.behaviour.helpers import DAY, archive, beacon_times, connections
from tests.web.browsing import open_page
from tests.web.test_browser import browser, live, sign_in

from bastion import audit, behaviour
from bastion.alerts import list_alerts
from bastion.audit import Actor

pytestmark = pytest.mark.browser

__all__ = ["browser", "live"]  # the live server and the browser of the console's browser tests


def test_lead_reads_a_beacon_with_its_charts_and_marks_it_benign(
    live: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    root = archive(
        tmp_path / "archive",
        connections(beacon_times(300, 280), "10.0.0.5", "203.0.113.90", org="RAL"),
        connections(beacon_times(300, 280, seed=2), "10.1.0.9", "203.0.113.91", org="RJ1"),
    )
    with live["store"].session() as session:
        behaviour.hunt_days(session, root, [DAY], actor=Actor.cli("scheduler"))
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["lead"], "/behaviour")
    rows = page.locator("#result-table tbody tr")
    assert rows.count() == 1
    assert "203.0.113.91" not in page.content()  # another member's beacon
    rows.first.locator("a").click()
    page.wait_for_selector("#charts")
    assert page.locator("#interval-chart svg rect.bar").count() > 1
    assert page.locator("#size-chart svg").count() == 1
    assert "conn 10.0.0.5 -> 203.0.113.90" in page.locator("#samples").inner_text()
    assert page.locator("#hunt-link").count() == 0  # hunting the archive is national
    page.fill("#b-reason", "our backup agent")
    page.click("#benign-button")
    page.wait_for_selector("#result-status")
    assert page.locator("#result-status").inner_text() == "benign"
    page.goto(live["url"] + "/behaviour")
    assert "203.0.113.90/32" in page.locator("#allow-table").inner_text()
    assert errors == []
    context.close()
    with live["store"].session() as session:
        events, _ = audit.list_events(session, action="behaviour.result.benign")
    assert [(e.actor, e.org) for e in events] == [("user:lead", "RAL")]


def test_analyst_follows_the_hunt_link(live: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    root = archive(
        tmp_path / "archive",
        connections(beacon_times(300, 280), "10.0.0.5", "203.0.113.90", org="RAL"),
    )
    with live["store"].session() as session:
        behaviour.hunt_days(session, root, [DAY], actor=Actor.cli("scheduler"))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live["url"], live["analyst"], "/behaviour")
    link = page.locator("#result-table tbody tr a").first
    destination = link.inner_text()
    link.click()
    page.click("#hunt-link")
    page.wait_for_selector("textarea")
    assert f"\"destination.ip\" = '{destination}'" in page.locator("textarea").first.input_value()
    with live["store"].session() as session:
        alerts = [a for a in list_alerts(session)[0] if a.kind.value == "behaviour"]
    page.goto(f"{live['url']}/alerts/{alerts[0].id}")
    page.click("#behaviour-link")
    page.wait_for_selector("#result-table")
    assert page.locator("#result-table tbody tr").count() >= 1
    assert alerts[0].host in page.locator("#result-table").inner_text()
    context.close()
