"""Cases in a real browser: a lead promotes an alert, works the tasks by keyboard, closes the case.

Uses the live console and Chromium of ``test_browser`` (its fixtures, its federation).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.browsing import open_page
from tests.web.test_browser import browser as browser  # fixtures
from tests.web.test_browser import live as live
from tests.web.test_browser import shot, sign_in

from bastion import cases
from bastion.alerts import list_alerts
from bastion.audit import Actor
from bastion.core.scope import Scope

pytestmark = pytest.mark.browser


def test_lead_promotes_an_alert_works_the_case_by_keyboard_and_closes_it(
    live: dict[str, Any], browser: Any
) -> None:
    with live["store"].session() as session:
        alerts, _ = list_alerts(session, org="RAL", limit=1)
        theirs = cases.create_case(
            session, cases.CaseDraft("St Thomas only", ("RJ1",)), actor=Actor.cli("t"),
            scope=Scope.everything(),
        )  # fmt: skip
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["lead"], "/cases")
    assert "St Thomas only" not in page.content()
    page.fill("#new-title", "C2 beacon at the Royal Free")
    page.fill("#new-alert", str(alerts[0].id))
    page.select_option("#new-template", "Phishing")
    page.click("#new-case button[type=submit]")
    page.wait_for_selector("#task-table")
    assert page.locator("#task-table tr").count() == len(cases.TEMPLATES["Phishing"])
    assert "Sector incident report" in page.locator("#clocks").inner_text()
    assert "left" in page.locator('#clocks tr[data-clock="sector"] .clock-state').inner_text()
    assert page.locator('#timeline-list li[data-kind="alert"]').count() >= 1

    # Mark the first task done with the keyboard only: focus its select, pick, tab to Set, Enter.
    first = page.locator("#task-table tr").first
    first.locator("select").focus()
    page.keyboard.press("End")  # the last option: done
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**#tasks")
    assert page.locator("#task-table tr .task-status").first.inner_text() == "done"

    page.locator("#note").focus()
    page.keyboard.type("Host isolated by the trust")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector('#timeline-list li[data-kind="note"]')
    assert "Host isolated" in page.locator("#timeline-list").inner_text()

    page.select_option("#new-status", "closed")
    page.fill("#resolution", "true positive, contained")
    page.click("#status-form button[type=submit]")
    page.wait_for_url("**#timeline")
    assert "Closed" in page.locator("#case-status").inner_text()
    shot(page, "case")
    assert errors == []  # nothing refused by the CSP, no script errors

    answer = page.goto(f"{live['url']}/cases/{theirs.id}")
    assert answer is not None
    assert answer.status == 404
    page.goto(f"{live['url']}/cases/stats")
    assert page.locator("svg.chart").count() == 2
    assert page.locator('#response-times tr[data-slice="RAL"]').count() == 1
    assert "RJ1" not in page.locator("#response-times").inner_text()
    shot(page, "case-stats")
    context.close()


def test_lead_tags_a_case_names_its_techniques_and_attaches_a_file(
    live: dict[str, Any], browser: Any, tmp_path: Any
) -> None:
    with live["store"].session() as session:
        made = cases.create_case(
            session, cases.CaseDraft("Phish at RAL", ("RAL",)), actor=Actor.cli("t"),
            scope=Scope.everything(),
        )  # fmt: skip
    report = tmp_path / "headers.txt"
    report.write_bytes(b"Received: from mail.bad.example\n")
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["lead"], f"/cases/{made.id}")
    assert page.locator("#evidence-form").count() == 0  # a hunt reads everyone's events
    page.fill("#tags", "phishing, ward-7")
    with page.expect_navigation():
        page.click("#tags-form button[type=submit]")
    page.fill("#techniques", "T1566.002, t1204")
    with page.expect_navigation():
        page.click("#techniques-form button[type=submit]")
    page.set_input_files("#attachment", str(report))
    with page.expect_navigation():
        page.click("#attach-form button[type=submit]")
    shot(page, "case-forms")
    assert page.locator("#techniques").input_value() == "T1204, T1566.002"
    assert page.locator("#tags").input_value() == "phishing, ward-7"
    assert "headers.txt" in page.locator("#timeline").inner_text()
    assert errors == []
    with live["store"].session() as session:
        stored = cases.get_case(session, made.id, Scope.everything())
    assert stored.techniques == ("T1204", "T1566.002")
    assert [a.name for a in stored.attachments] == ["headers.txt"]
    context.close()
