"""The password console in a real browser: a lead reads its counts and edits its policy."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.web.browsing import open_page
from tests.web.test_browser import browser, live, sign_in

from bastion import audit, passwords
from bastion.audit import Actor

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
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["lead"], "/passwords")
    reasons = page.locator("#reason-table tbody tr")
    assert [reasons.nth(i).get_attribute("data-reason") for i in range(reasons.count())] == [
        "breached",
        "accepted",
    ]
    assert page.locator("#block-table tbody").inner_text().split() == ["2026-11", "RAL", "3"]
    icb = page.locator("#icb-table tbody").inner_text()
    assert icb.split("\t") == ["2026-11", "NHS South West London ICB", "3"]
    assert page.locator("#region-table tbody tr").get_attribute("data-area") == "—"  # no region
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


def test_lead_reads_its_directory_audit_reports_and_not_anothers(
    live: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    folder = live["settings"].passwords_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "list.txt").write_text("Summer2024!\n", encoding="utf-8")
    passwords.Builder(folder, [passwords.source(folder / "list.txt")]).run()
    breached, fresh = (bytes(d).hex() for d in passwords.ntlm_many(["Summer2024!", "x-Long-9"]))
    dump = tmp_path / "ad-export.txt"
    dump.write_text(
        f"alice:1:aa:{breached}:::\nbob:2:aa:{fresh}:::\ncarol:3:aa:{fresh}:::\n", "utf-8"
    )
    stores = passwords.Stores(folder)
    with live["store"].session() as session:
        ours, _ = passwords.run_audit(session, stores, Actor.cli("ops"), "RAL", dump)
        theirs, _ = passwords.run_audit(session, stores, Actor.cli("ops"), "RJ1", dump)
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["admin"], "/passwords")
    page.click("#audits-link")
    page.wait_for_selector("#audit-table")
    assert page.locator("#audit-table tbody tr").count() == 2  # national: both
    context.close()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live["url"], live["lead"], "/passwords/audits")
    rows = page.locator("#audit-table tbody tr")
    assert [rows.nth(i).get_attribute("data-org") for i in range(rows.count())] == ["RAL"]
    page.click(f'#audit-table a[href="/passwords/audits/{ours}"]')
    page.wait_for_selector("#breached")
    assert page.locator("#breached").inner_text().split() == ["alice"]
    assert page.locator("#shared").inner_text() == "bob, carol"
    assert "3 accounts in ad-export.txt" in page.locator("#audit-summary").inner_text()
    assert breached not in page.content()
    assert errors == []  # before the 404 below, which the browser logs as an error
    answer = page.goto(f"{live['url']}/passwords/audits/{theirs}")
    assert answer is not None
    assert answer.status == 404
    context.close()
