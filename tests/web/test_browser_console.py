"""The console's defects a new user hit, and its inventories and exposures, in Chromium.

One live console over a small federation with a day of half a million archived
events, indicator, JA3 and Sigma rule alerts, the demo's vulnerability records,
an inventory with vulnerable Log4j and a published national alert. Each person
signs in once (a TOTP code is good once); the tests open pages with their
saved sessions.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from tests.conftest import sqlite_copy
from tests.web import browsing
from tests.web.browsing import serving, sign_in

from bastion import advisories as adv
from bastion import auth, orgs
from bastion.advisories.importers import parse_osv_record
from bastion.advisories.vulns import ImportResult
from bastion.alerts import record_alerts
from bastion.audit import Actor
from bastion.auth import Role
from bastion.auth import users as auth_users
from bastion.core.settings import Settings
from bastion.demo.detection import install_demo_rules
from bastion.demo.national import lead_sbom
from bastion.demo.vulnerabilities import DEMO_OSV_RECORDS
from bastion.web import create_app
from bastion.web.testing import FAST_HASHER, create_person

pytestmark = pytest.mark.browser

browser = browsing.browser  # the fixture: Debian's chromium
RULE_ID = "451b3c28-3fed-4081-aef7-5230e65f58a7"  # the demo's Log4Shell rule
RULE_TITLE = "Log4Shell JNDI lookup in a web request"
JA3 = "e7d705a3286e19ea42f587b344ee6865"
EVENTS_A_DAY = 500_000
CLI_COMMAND = re.compile(r"`?bastion [a-z]+")


def _alert(org: str, minute: int, **fields: Any) -> dict[str, Any]:
    return {
        "organization.id": org,
        "host.ip": "10.20.1.5",
        "@timestamp": datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2, minutes=minute),
        "kind": "indicator",
        "key": f"k-{org}-{fields.get('indicator.value')}",
        "title": "Listed indicator",
        "severity": "high",
        "blocked": False,
        "indicator.type": "ipv4",
        "indicator.value": "203.0.113.9",
        "indicator.source": "national-feed",
        "indicator.threat": "qakbot",
        "event.original": "TRAFFIC,allow,10.20.1.5,203.0.113.9,443",
        "log.file.path": "/var/log/fw/panos.log",
        "log.offset": minute,
        "event.dataset": "panos.traffic",
        **fields,
    }


def _alerts() -> list[dict[str, Any]]:
    rows = [_alert("RAL", m) for m in range(5)]
    rows += [
        _alert("RJ1", m, **{"indicator.type": "ja3", "indicator.value": JA3}) for m in range(4)
    ]
    rows += [
        _alert(
            "RAL",
            m,
            kind="rule",
            key=f"sigma:{RULE_ID}",
            title=RULE_TITLE,
            **{"indicator.type": "sigma-rule", "indicator.value": RULE_ID},
        )
        for m in range(3)
    ]
    return rows


def _archive_day(archive: Path, day: datetime) -> None:
    """Write half a million archived events of one day (a tenth of them blocked)."""
    folder = archive / f"day={day.date().isoformat()}" / "org=RAL"
    folder.mkdir(parents=True)
    frame = pl.DataFrame(
        {
            "organization.id": ["RAL"] * EVENTS_A_DAY,
            "event.type": ["denied" if i % 10 == 0 else "allowed" for i in range(EVENTS_A_DAY)],
        }
    )
    frame.write_parquet(folder / "part-c1.parquet")


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path
) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("console")
    store = sqlite_copy(migrated_sqlite, folder / "bastion.db")
    test = Actor.cli("test")
    with store.session() as session:
        for org in (
            orgs.Organisation("QWE", "NHS South West London ICB", orgs.OrgType.ICB),
            orgs.Organisation(
                "RAL", "Royal Free London NHS Foundation Trust", orgs.OrgType.TRUST, parent="QWE"
            ),
            orgs.Organisation(
                "RJ1", "Guy's and St Thomas' NHS Foundation Trust", orgs.OrgType.TRUST, parent="QWE"
            ),
        ):
            orgs.save_organisation(session, org, actor=test)
    with store.session() as session:
        record_alerts(session, pl.DataFrame(_alerts()))
        records = [parse_osv_record(doc) for doc in DEMO_OSV_RECORDS]
        adv.import_intel(session, ImportResult("osv", records=records), "demo", actor=test)
        adv.import_inventory(session, "RAL", lead_sbom("RAL"), "app.cdx.json", actor=test)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp = adv.SmtpConfig(host="127.0.0.1", port=probe.getsockname()[1])
    content = adv.AlertContent(
        title="Log4Shell in Apache Log4j",
        severity=adv.AlertSeverity.HIGH,
        summary="Remote code execution.",
        cves=("CVE-2021-44228",),
    )
    with store.session() as session:
        ref = adv.draft_alert(session, content, author=test).ref
        adv.publish(session, ref, actor=test, policy=adv.Policy(), smtp=smtp)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_users, "HASHER", FAST_HASHER)
        people = {
            "analyst": create_person(store, "analyst", Role.NATIONAL_ANALYST),
            "admin": create_person(store, "admin", Role.NATIONAL_ADMIN),
            "lead": create_person(store, "lead", None, (("RAL", Role.ORG_LEAD),)),
        }
        create_person(store, "victim", None, (("RAL", Role.ORG_VIEWER),))
    settings = Settings(data_dir=folder)
    install_demo_rules(settings.rules_dir)
    _archive_day(settings.archive_dir, datetime.now(UTC) - timedelta(days=1))
    app = create_app(store, settings)
    app.state.advisories_smtp = smtp
    with serving(app) as url:
        yield {"url": url, "store": store, "people": people, "ref": ref}
    store.dispose()


@pytest.fixture(scope="module")
def signed_in(live: dict[str, Any], browser: Any) -> dict[str, Any]:
    """Each person's saved session: signed in once, reused by every test."""
    states = {}
    for name, person in live["people"].items():
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, live["url"], person)
        states[name] = context.storage_state()
        context.close()
    return states


Opener = Callable[..., Any]


@pytest.fixture
def open_as(live: dict[str, Any], browser: Any, signed_in: dict[str, Any]) -> Iterator[Opener]:
    """Return ``open_as(who, path, **context options)``: a page of ``who``'s at ``path``.

    Each page's context is closed after the test, which fails if the page logged an error
    (a script error, something the CSP refused).
    """
    opened: list[tuple[Any, list[str]]] = []

    def open_page(who: str, path: str, **options: Any) -> Any:
        context = browser.new_context(
            storage_state=signed_in[who], viewport={"width": 1280, "height": 900}, **options
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        opened.append((context, errors))
        page.goto(f"{live['url']}{path}")
        return page

    yield open_page
    for context, _ in opened:
        context.close()
    assert [e for _, errors in opened for e in errors if "status of 4" not in e] == []


def box(page: Any, selector: str) -> dict[str, float]:
    found: dict[str, float] = page.locator(selector).first.bounding_box()
    return found


def test_overview_axis_labels_fit_and_top_entries_are_named_and_linked(
    live: dict[str, Any], open_as: Opener
) -> None:
    page = open_as("analyst", "/overview")
    chart = page.locator("svg.chart").first  # events and blocks per day
    labels = chart.locator("text[text-anchor=end]")
    assert labels.all_text_contents() == ["0", "250,000", "500,000"]
    # Each y label lies wholly inside the chart: nothing cut at its left edge.
    lefts = labels.evaluate_all("(els) => els.map((e) => e.getBBox().x)")
    assert min(lefts) >= 0, lefts
    indicators = page.locator("#top-indicators")
    text = indicators.inner_text()
    assert RULE_TITLE in text
    assert "sigma-rule" not in text
    assert indicators.locator(f'a[href="/rules/{RULE_ID}"]').count() == 1
    assert indicators.locator('a[href="/intel/indicators/ipv4:203.0.113.9"]').count() == 1
    assert indicators.locator(f'a[href="/intel/indicators/ja3:{JA3}"]').count() == 1
    # The JA3 label ends before its bar starts.
    label = page.locator(f'#top-indicators .label[title="ja3 {JA3}"]')
    label_box = label.bounding_box()
    bar_box = label.locator("xpath=following-sibling::*[1]").bounding_box()
    assert label_box["x"] + label_box["width"] <= bar_box["x"] + 0.5
    assert "Royal Free London NHS Foundation Trust" in page.locator("#top-orgs").inner_text()
    page.click("#top-indicators a[href^='/rules/']")
    page.wait_for_selector("#rule-yaml")


def test_lead_overview_puts_the_pending_national_alert_first_with_its_countdown(
    live: dict[str, Any], open_as: Opener
) -> None:
    page = open_as("lead", "/overview")
    first = page.locator("main > *").first
    assert first.get_attribute("id") == "pending-alerts"
    item = page.locator(f'#pending-alerts li[data-advisory="{live["ref"]}"]')
    assert "Log4Shell in Apache Log4j" in item.inner_text()
    countdown = item.locator(".countdown").inner_text()
    assert re.fullmatch(r"4[67] h \d\d min left", countdown), countdown
    assert "Royal Free London NHS Foundation Trust" in (
        page.locator(".page-head .eyebrow").text_content() or ""
    )


def test_messages_are_written_for_the_console_and_the_api(
    live: dict[str, Any], open_as: Opener
) -> None:
    page = open_as("analyst", "/users")
    said = page.locator(".error-detail").inner_text()
    assert "Your account cannot see users and API tokens for the whole federation" in said
    assert "user:" not in said
    assert "may not users read" not in said
    api = page.request.get(f"{live['url']}/api/v1/alerts/987654")
    assert api.status == 404
    assert api.json()["detail"] == "no alert with id 987654"
    page.goto(f"{live['url']}/alerts/987654")
    missing = page.locator(".error-detail").inner_text()
    assert not CLI_COMMAND.search(missing), missing
    assert "your account may not see it" in missing


def test_advisory_page_spacing_forms_and_acknowledgement(
    live: dict[str, Any], open_as: Opener
) -> None:
    ref = live["ref"]
    page = open_as("lead", f"/advisories/{ref}")
    facts = page.locator(".facts").first.bounding_box()
    summary = page.locator("#advisory-content h2", has_text="Summary").bounding_box()
    assert summary["y"] - (facts["y"] + facts["height"]) >= 16
    fieldset = page.locator("#respond-acknowledge fieldset")
    assert fieldset.evaluate("(e) => getComputedStyle(e).borderTopWidth") == "0px"
    assert page.locator("#applicability").input_value() == ""
    assert page.locator("#applicability").evaluate("(e) => e.required")
    page.click("#respond-acknowledge button[type=submit]")
    page.wait_for_selector("#done-notice")
    assert "Acknowledged for RAL" in page.locator("#done-notice").inner_text()
    assert page.locator("#respond-acknowledge").count() == 0
    assert "Acknowledged" in page.locator('#response-table tr[data-response="RAL"]').inner_text()


def test_rule_yaml_is_whole_and_inputs_match_selects(live: dict[str, Any], open_as: Opener) -> None:
    page = open_as("admin", f"/rules/{RULE_ID}")
    yaml = page.locator("#rule-yaml")
    scroll, client = yaml.evaluate("(e) => [e.scrollHeight, e.clientHeight]")
    assert scroll <= client + 1, (scroll, client)
    assert "level:" in yaml.inner_text()
    assert abs(box(page, "#tune-org")["height"] - box(page, "#tune-enabled")["height"]) <= 1


def test_disabling_a_user_is_red_and_confirmed_without_script(
    live: dict[str, Any], open_as: Opener
) -> None:
    page = open_as("admin", "/users/victim", java_script_enabled=False)
    button = page.locator("#disable-button")
    assert button.evaluate("(e) => getComputedStyle(e).backgroundColor") == "rgb(179, 18, 46)"
    assert (
        page.locator("#totp-button").evaluate("(e) => getComputedStyle(e).backgroundColor")
        == "rgb(179, 18, 46)"
    )
    assert not page.locator("#status-form").is_visible()
    button.click()  # opens the confirmation; nothing changes yet
    assert page.locator("#status-form").is_visible()
    with live["store"].session() as session:
        assert not auth.get_user(session, "victim").disabled
    page.click("#status-form button[type=submit]")
    page.wait_for_selector("#user-state")
    assert page.locator("#user-state").text_content() == "Disabled"
    with live["store"].session() as session:
        assert auth.get_user(session, "victim").disabled


def test_organisation_page_shows_inventories_exposures_and_takes_an_sbom(
    live: dict[str, Any], open_as: Opener, tmp_path: Path
) -> None:
    page = open_as("lead", "/orgs/RAL")
    assert "app.cdx.json" in page.locator("#inventory-table").inner_text()
    row = page.locator('#exposure-table tr[data-vuln="CVE-2021-44228"]')
    text = row.inner_text()
    assert "log4j-core" in text
    assert "2.14.1" in text
    assert "affected" in text
    assert row.locator(f'a[href="/advisories/{live["ref"]}"]').count() == 1
    sbom = tmp_path / "portal.cdx.json"
    sbom.write_bytes(lead_sbom("RAL").replace(b"2.14.1", b"2.16.0"))
    page.set_input_files("#sbom-file", str(sbom))
    page.click("#sbom-form button[type=submit]")
    page.wait_for_selector("#imported-notice")
    assert "portal.cdx.json" in page.locator("#inventory-table").inner_text()
    assert page.locator('#exposure-table tr[data-vuln="CVE-2021-45105"]').count() >= 1
    page = open_as("analyst", "/exposures")
    by_vuln = page.locator('#exposures-by-vuln tr[data-vuln="CVE-2021-44228"]').inner_text()
    assert live["ref"] in by_vuln
    by_org = page.locator('#exposures-by-org tr[data-org="RAL"]').inner_text()
    assert "Royal Free London NHS Foundation Trust" in by_org


def test_an_analyst_drafts_a_national_alert_in_the_console(
    live: dict[str, Any], open_as: Opener
) -> None:
    page = open_as("analyst", "/advisories")
    page.fill("#draft-title", "Text4Shell in Apache Commons Text")
    page.select_option("#draft-severity", "high")
    page.fill("#draft-cves", "CVE-2022-42889")
    page.fill("#draft-summary", "Upgrade commons-text to 1.10.0.")
    page.click("#draft-form button[type=submit]")
    page.wait_for_selector("#publish-form")
    assert "Draft saved" in page.locator("#done-notice").inner_text()
    assert page.locator("#preview-count").inner_text() == "1"  # RAL runs commons-text 1.9
    page.click("#publish-form button[type=submit]")
    page.wait_for_selector("#response-table")
    assert page.locator('#response-table tr[data-response="RAL"]').count() == 1
    assert "First version" in page.locator("#versions").inner_text()
