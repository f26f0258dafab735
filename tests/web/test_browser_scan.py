"""The scan console in a real browser: a lead reads its findings, opens one, says it is fixed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.web.browsing import open_page
from tests.web.test_browser import browser, live, sign_in

from bastion import audit, scan
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.core.types import Severity

pytestmark = pytest.mark.browser

__all__ = ["browser", "live"]  # the live server and the browser of the console's browser tests


def _fold(store: Any, org: str, host: str, detail: str, severity: Severity) -> None:
    observation = scan.Observation(
        "ports", detail, f"{detail} on {host}", severity, 3389,
        scan.Evidence("X.224 connection request", "0300000b06d0"), "exposed_service",
        {"service": "Remote Desktop (RDP)", "why": "ransomware gangs get in this way."},
    )  # fmt: skip
    with store.session() as session:
        scan.record_outcome(
            session,
            scan.HostOutcome(scan.Target(org, host, "203.0.113.7", host), [observation]),
            actor=Actor.cli("scanner"),
            now=datetime.now(UTC),
        )


def test_lead_opens_a_finding_and_asks_for_a_rescan(live: dict[str, Any], browser: Any) -> None:
    _fold(live["store"], "RAL", "www.ral.example", "exposed:rdp", Severity.HIGH)
    _fold(live["store"], "RJ1", "www.rj1.example", "exposed:smb", Severity.CRITICAL)
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["lead"], "/scan")
    rows = page.locator("#finding-table tbody tr")
    assert rows.count() == 1
    assert "www.rj1.example" not in page.content()
    rows.first.locator("a").click()
    page.wait_for_selector("#remediation")
    assert "close port 3389" in page.locator("#remediation").inner_text()
    assert "0300000b06d0" in page.locator("#evidence-response").inner_text()
    page.click("#rescan-button")
    page.wait_for_selector("#finding-status")
    assert page.locator("#finding-status").inner_text() == "fixed-unconfirmed"
    page.goto(live["url"] + "/scan/national")
    assert page.locator("#live-count").inner_text() == "1"
    assert errors == []
    context.close()
    with live["store"].session() as session:
        events, _ = audit.list_events(session, action="scan.finding.rescan")
    assert [(e.actor, e.org) for e in events] == [("user:lead", "RAL")]


def test_national_page_shows_the_weekly_trend(live: dict[str, Any], browser: Any) -> None:
    _fold(live["store"], "RJ1", "mail.rj1.example", "exposed:rdp", Severity.HIGH)
    with live["store"].session() as session:
        trend = scan.weekly_trend(session, Scope.everything())
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["analyst"], "/scan/national")
    page.wait_for_selector("#trend")
    assert page.locator("#trend tbody tr").count() == len(trend) == 12
    this_week = trend[-1]
    row = page.locator(f'#trend tr[data-week="{this_week["week"]}"]')
    for severity, count in this_week["opened"].items():
        assert row.locator(f'td[data-opened="{severity}"]').inner_text() == str(count)
    assert this_week["opened"]["high"] >= 1
    chart = page.locator("section[aria-labelledby=trend-h] svg.chart")
    assert chart.get_attribute("aria-label") == "Findings opened and closed per week"
    assert errors == []
    context.close()
