"""Hunting and event search in a real browser (Chromium), on the live console of test_browser.

A national analyst writes SQL in the hunt page's editor: an unquoted ECS name is
explained, a file outside the archive is refused, results page and download, a
hunt is saved and opened again. An organisation lead searches its own events and
never sees another organisation's, and has no hunt page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from tests.web.browsing import open_page
from tests.web.test_browser import browser, live, shot, sign_in

from bastion.boundary.archive import write_batch

__all__ = ["browser", "live"]  # the module's fixtures, shared with test_browser

pytestmark = pytest.mark.browser

START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


@pytest.fixture(scope="module")
def archived(live: dict[str, Any]) -> dict[str, Any]:
    """150 events of RAL and 5 of RJ1 in the live console's archive."""
    rows = [
        {
            "@timestamp": START + timedelta(seconds=n),
            "organization.id": org,
            "source.ip": "10.20.1.5" if org == "RAL" else "10.30.1.5",
            "destination.ip": "203.0.113.9",
            "event.dataset": "panos.traffic",
            "event.action": "allow",
            "event.original": f"{org.lower()}-event-{n:03d}",
        }
        for org, count in (("RAL", 150), ("RJ1", 5))
        for n in range(count)
    ]
    write_batch(pl.DataFrame(rows), live["settings"].archive_dir, "browser-hunt")
    return live


def run(page: Any, sql: str) -> None:
    page.fill("#sql", sql)
    page.click("#hunt-run")
    page.wait_for_load_state()


def test_analyst_hunts_pages_downloads_and_saves(
    archived: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    context, page, errors = open_page(browser, 1400, accept_downloads=True)
    sign_in(page, archived["url"], archived["analyst"], "/hunt")
    assert "source.ip" in page.locator("#hunt-columns").inner_text()

    run(page, "SELECT source.ip FROM events")
    error = page.locator("#hunt-error").inner_text()
    assert 'ECS names with dots need double quotes, "source.ip"' in error

    run(page, "SELECT * FROM read_csv('/etc/passwd')")
    assert "hunt query failed" in page.locator("#hunt-error").inner_text()
    assert "root:" not in page.content()

    # The column browser writes the quoted name into the editor.
    page.fill("#sql", "")
    page.locator('#hunt-columns [data-insert="\\"event.original\\""]').click()
    assert page.input_value("#sql") == '"event.original"'

    sql = "SELECT \"event.original\" FROM events WHERE org = 'RAL' ORDER BY 1"
    run(page, sql)
    results = page.locator("#hunt-results tbody tr")
    assert results.count() == 100
    assert results.first.inner_text() == "ral-event-000"
    cost = page.locator("#hunt-cost").inner_text()
    assert "Rows 1–100, more follow" in cost
    assert "scanned" in cost
    shot(page, "hunt")
    page.click("#hunt-next")
    page.wait_for_selector("#hunt-results")
    assert page.locator("#hunt-results tbody tr").count() == 50
    assert page.locator("#hunt-results tbody tr").last.inner_text() == "ral-event-149"

    with page.expect_download() as download:
        page.click("#hunt-csv")
    saved_csv = tmp_path / "hunt.csv"
    download.value.save_as(saved_csv)
    lines = saved_csv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "event.original"
    assert len(lines) == 151
    with page.expect_download() as download:
        page.click("#hunt-parquet")
    saved_parquet = tmp_path / "hunt.parquet"
    download.value.save_as(saved_parquet)
    assert pl.read_parquet(saved_parquet).height == 150

    page.click("#hunt-save summary")
    page.fill("#hunt-name", "RAL events in order")
    page.check("#hunt-save-form input[name=shared]")
    page.click("#hunt-save-form button[type=submit]")
    page.wait_for_selector("#saved-hunts li")
    assert "RAL events in order" in page.locator("#saved-hunts").inner_text()
    assert page.input_value("#sql") == sql  # opened again from the saved list
    # Nothing refused by the CSP, no script error (the refused queries answered 422).
    assert [e for e in errors if "status of 422" not in e] == []
    context.close()


def test_lead_searches_its_own_events_and_has_no_hunt_page(
    archived: dict[str, Any], browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    sign_in(page, archived["url"], archived["lead"], "/events")
    table = page.locator("#events").inner_text()
    assert "ral-event-149" in table
    assert "rj1-event" not in page.content()
    page.fill("#address", "10.30.1.5")  # RJ1's host: its events exist, and stay hidden
    page.click("#event-filters button[type=submit]")
    page.wait_for_load_state()
    assert "No event matches these filters" in page.content()
    assert "rj1-event" not in page.content()
    page.fill("#address", "")
    page.fill("#url", "")
    page.click("#event-filters button[type=submit]")
    page.wait_for_selector("#events")
    page.click("a[rel=next]")
    page.wait_for_selector("#events")
    assert "ral-event-099" in page.locator("#events").inner_text()
    shot(page, "events")
    assert "Hunt" not in page.locator("nav.nav").inner_text()
    answer = page.goto(f"{archived['url']}/hunt")
    assert answer is not None
    assert answer.status == 403
    context.close()
