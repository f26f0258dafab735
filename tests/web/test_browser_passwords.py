"""The password console in a real browser: a lead reads its counts and edits its policy."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from tests.web.test_browser import browser, live, sign_in

from bastion import audit, passwords

pytestmark = pytest.mark.browser

__all__ = ["browser", "live"]  # the live server and the browser of the console's browser tests


def test_lead_reads_its_counts_and_edits_its_policy(live: dict[str, Any], browser: Any) -> None:
    with live["store"].session() as session:
        for org, reason, times in [
            ("RAL", "breached", 3),
            ("RAL", "accepted", 2),
            ("RJ1", "too_short", 7),
        ]:
            for _ in range(times):
                passwords.count_check(session, org, reason, date(2026, 11, 3))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live["url"], live["lead"], "/passwords")
    reasons = page.locator("#reason-table tbody tr")
    assert [reasons.nth(i).get_attribute("data-reason") for i in range(reasons.count())] == [
        "breached",
        "accepted",
    ]
    assert page.locator("#block-table tbody").inner_text().split() == ["2026-11", "RAL", "3"]
    assert "RJ1" not in page.content()
    page.fill("#min-length", "16")
    page.check("#scoring")
    page.fill("#banned", "theatre\nward round")
    page.click("#policy-form button[type=submit]")
    page.wait_for_selector("#policy-owner")
    assert "its own" in page.locator("#policy-owner").inner_text()
    assert page.input_value("#min-length") == "16"
    assert page.input_value("#banned") == "theatre\nward round"
    assert errors == []
    context.close()
    with live["store"].session() as session:
        events, _ = audit.list_events(session, action="passwords.policy.set")
    assert [(e.actor, e.org, e.after["min_length"] if e.after else None) for e in events] == [
        ("user:lead", "RAL", 16)
    ]
