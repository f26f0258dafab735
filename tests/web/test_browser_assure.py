"""Assurance in a real browser: a lead fills a return, an independent reviewer completes, it is published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.web.test_browser import browser, live, shot, sign_in

from bastion import assure, audit
from bastion.audit import Actor
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope

pytestmark = pytest.mark.browser

__all__ = ["browser", "live"]  # the live server and the browser of the console's browser tests


def test_a_return_goes_from_draft_through_independent_review_to_published(
    live: dict[str, Any], browser: Any
) -> None:
    with live["store"].session() as session:
        assure.store_framework(
            session, assure.shipped_library("cyber-essentials"), actor=Actor.cli("t")
        )
        made = assure.open_return(session, "RAL", "2024-25", "cyber-essentials", actor=Actor.cli("t"),
                                  scope=Scope.everything())  # fmt: skip
    url = f"/assure/returns/{made.id}"
    lead = browser.new_context(viewport={"width": 1280, "height": 900})
    page = lead.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live["url"], live["lead"], url)
    # Keyboard first: focus the first answer, choose it with the space bar.
    page.focus('[id="yes-fw.1"]')
    page.keyboard.press("Space")
    for statement in ("fw.2", "fw.3", "fw.4"):
        page.check(f'[id="yes-{statement}"]')
    page.fill('[id="alt-fw.4"]', "deny-all at the HSCN boundary")
    page.click("#save")
    page.wait_for_selector("#progress")
    assert page.locator("#outcome-firewalls .status").inner_text() == "Met"
    page.fill("#reviewer", live["analyst"].username)
    page.select_option("#review-kind", "independent")
    page.click("#assign")
    page.wait_for_selector("#review-list li[data-kind=independent]")
    page.click("#publish")
    page.wait_for_load_state()
    assert "not completed" in page.content()  # refused: the independent review is still to do
    reviewer = browser.new_context(viewport={"width": 1280, "height": 900})
    review_page = reviewer.new_page()
    sign_in(review_page, live["url"], live["analyst"], url)
    review_page.select_option("#rc-outcome-independent", "firewalls")
    review_page.fill("#rc-text-independent", "Checked the rule base")
    review_page.select_option("#state-independent", "completed")
    review_page.click("#review-save-independent")
    review_page.wait_for_selector("#review-list")
    assert "completed" in review_page.locator("#review-list").inner_text()
    reviewer.close()
    page.goto(live["url"] + url)
    page.click("#publish")
    page.wait_for_selector("#version")
    assert (page.locator("#state").inner_text(), page.locator("#version").inner_text()) == (
        "published",
        "1",
    )
    assert errors == [
        "Failed to load resource: the server responded with a status of 409 (Conflict)"
    ]
    lead.close()
    with live["store"].session() as session:
        events, _ = audit.list_events(session, action="assure.return.publish")
    assert [(e.actor, e.org) for e in events] == [("user:lead", "RAL")]


RULES = "https://evidence.example/ral/firewall-rules.pdf"


def test_evidence_on_cyber_essentials_shows_on_the_caf_return_and_the_evidence_page(
    live: dict[str, Any], browser: Any, shared_data: Path
) -> None:
    everything, actor = Scope.everything(), Actor.cli("t")
    with live["store"].session() as session:
        for library in (assure.shipped_library("cyber-essentials"),
                        assure.read_library(shared_data / "assurance" / "ncsc-caf-v4.0.yaml")):  # fmt: skip
            try:
                assure.get_framework(session, library.ref)
            except NotFoundError:
                assure.store_framework(session, library, actor=actor)
        ce = assure.open_return(
            session, "RAL", "2025-26", "cyber-essentials", actor=actor, scope=everything
        )
        caf = assure.open_return(
            session, "RAL", "2025-26", "ncsc-caf", actor=actor, scope=everything
        )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live["url"], live["lead"], f"/assure/returns/{ce.id}")
    page.fill("#evidence-firewalls", RULES)
    page.click("#save")
    page.wait_for_selector("#outcome-firewalls .evidence a")
    assert page.locator("#outcome-firewalls .evidence a").inner_text() == RULES
    # The same link, on the CAF return: under B4.c Secure Management, which CE firewalls maps to.
    page.goto(f"{live['url']}/assure/returns/{caf.id}")
    shared = page.locator('[id="outcome-B4.c"] .evidence.shared')
    assert shared.count() == 1
    assert shared.get_attribute("data-via") == "cyber-essentials:firewalls"
    assert shared.locator("a").inner_text() == RULES
    assert page.locator('[id="outcome-A1.a"] .evidence.shared').count() == 0
    # The organisation's evidence page lists the link once, with each outcome it supports.
    page.click("#evidence-across")
    page.wait_for_selector("#evidence-table")
    rows = page.locator(f'#evidence-table tr[data-link="{RULES}"]')
    supported = {(rows.nth(i).get_attribute("data-framework"), rows.nth(i).get_attribute("data-outcome"))
                 for i in range(rows.count())}  # fmt: skip
    assert supported == {("cyber-essentials", "firewalls"), ("ncsc-caf", "B4.c")}
    assert "mapped from cyber-essentials:firewalls" in page.locator("#evidence-table").inner_text()
    shot(page, "assure-evidence")
    context.close()
    with live["store"].session() as session:
        events, _ = audit.list_events(session, action="assure.return.update")
    assert ["firewalls"] in [e.after["evidence"] for e in events if e.actor == "user:lead"]
