"""The console in a real browser: Debian's chromium driven by Playwright, against a live server.

Sign in with TOTP, open the overview, follow an alert to its evidence, and fail
to open another organisation's page; respond to an advisory as an
organisation lead; switch a detection rule off for one organisation as a
national administrator. Under CI (or with BASTION_SCREENSHOTS=1) they write
screenshots of the pages they check into docs/screenshots/, the README's tour.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from tests.conftest import sqlite_copy
from tests.web import browsing
from tests.web.browsing import open_page, serving, sign_in

from bastion import advisories as adv
from bastion import audit, auth, detect, orgs
from bastion.alerts import record_alerts
from bastion.audit import Actor
from bastion.auth import Role
from bastion.auth import users as auth_users
from bastion.core.settings import Settings
from bastion.demo.detection import install_demo_rules
from bastion.web import create_app
from bastion.web.testing import FAST_HASHER, create_person

pytestmark = pytest.mark.browser

browser = browsing.browser  # the fixture: Debian's chromium

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _alert_events() -> list[dict[str, Any]]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    rows = []
    for day in range(3):
        for org, value, blocked in (("RAL", "203.0.113.9", False), ("RJ1", "198.51.100.7", True)):
            for minute in range(day + 2):
                rows.append(
                    {
                        "organization.id": org,
                        "host.ip": "10.20.1.5",
                        "@timestamp": start + timedelta(days=day, minutes=minute),
                        "kind": "indicator",
                        "key": f"c2-{org}-{day}",
                        "title": f"qakbot: Listed ipv4 {value}",
                        "severity": "high",
                        "blocked": blocked,
                        "indicator.type": "ipv4",
                        "indicator.value": value,
                        "indicator.source": "national-feed",
                        "indicator.threat": "qakbot",
                        "event.original": f"TRAFFIC,allow,10.20.1.5,{value},443 ({org})",
                        "log.file.path": "/var/log/fw/panos.log",
                        "log.offset": 4096 * minute,
                        "event.dataset": "panos.traffic",
                    }
                )
    return rows


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path
) -> Iterator[dict[str, Any]]:
    """A live console on a free port over a small federation with alerts and two people."""
    folder = tmp_path_factory.mktemp("browser")
    store = sqlite_copy(migrated_sqlite, folder / "bastion.db")
    with store.session() as session:
        orgs.save_organisation(
            session,
            orgs.Organisation("QWE", "NHS South West London ICB", orgs.OrgType.ICB),
            actor=Actor.cli("test"),
        )
        orgs.save_organisation(
            session,
            orgs.Organisation(
                "RAL",
                "Royal Free London NHS Foundation Trust",
                orgs.OrgType.TRUST,
                parent="QWE",
                networks=("10.20.0.0/16",),
                contacts=(orgs.Contact("Ann Example", "ann.example@royalfree.example", "CISO"),),
            ),
            actor=Actor.cli("test"),
        )
        orgs.save_organisation(
            session,
            orgs.Organisation(
                "RJ1", "Guy's and St Thomas' NHS Foundation Trust", orgs.OrgType.TRUST, parent="QWE"
            ),
            actor=Actor.cli("test"),
        )
    with store.session() as session:
        record_alerts(session, pl.DataFrame(_alert_events()))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_users, "HASHER", FAST_HASHER)
        analyst = create_person(store, "analyst", Role.NATIONAL_ANALYST)
        lead = create_person(store, "lead", None, (("RAL", Role.ORG_LEAD),))
        admin = create_person(store, "admin", Role.NATIONAL_ADMIN)
        # A second administrator: one person signs in once per TOTP step (a code is good once).
        tuner = create_person(store, "tuner", Role.NATIONAL_ADMIN)
        triager = create_person(store, "triager", Role.NATIONAL_ANALYST)
    with store.session() as session:
        auth.create_token(
            session, auth.system_principal("demo"), "siem export", ["alerts:read"], org="RAL"
        )
    settings = Settings(data_dir=folder)
    install_demo_rules(settings.rules_dir)
    with serving(create_app(store, settings)) as url:
        yield {
            "url": url,
            "analyst": analyst,
            "lead": lead,
            "admin": admin,
            "tuner": tuner,
            "triager": triager,
            "store": store,
            "settings": settings,
        }
    store.dispose()


def shot(page: Any, name: str) -> None:
    """Write the page to docs/screenshots/ (the README's tour) when asked to, and always in CI."""
    if os.environ.get("BASTION_SCREENSHOTS") or browsing.IN_CI:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_analyst_signs_in_with_totp_and_follows_an_alert_to_its_evidence(
    live: dict[str, Any], browser: Any
) -> None:
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["analyst"])
    assert page.url.endswith("/overview")
    assert page.locator("svg.chart").count() == 2
    assert page.locator("#top-orgs").inner_text().count("RJ1") == 1
    shot(page, "overview")
    page.click("#all-alerts")
    page.wait_for_selector("#alerts")
    shot(page, "alerts")
    page.locator('#alerts tbody a[href^="/alerts/"]').first.click()
    page.wait_for_selector("#evidence")
    assert "TRAFFIC,allow" in page.locator("#evidence").inner_text()
    shot(page, "alert")
    assert errors == []  # nothing refused by the CSP, no script errors
    context.close()


def test_lead_sees_its_organisation_and_not_anothers(live: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live["url"], live["lead"], "/orgs/RAL")
    assert "Royal Free" in page.locator("h1").inner_text()
    shot(page, "organisation-phone")
    answer = page.goto(f"{live['url']}/orgs/RJ1")
    assert answer is not None
    assert answer.status == 404
    assert "St Thomas" not in page.content()
    page.goto(f"{live['url']}/overview")
    assert "RJ1" not in page.locator("#figures").inner_text()
    assert (
        page.locator("#top-orgs").inner_text().split() == ["RAL", "4"]
        or "RJ1" not in page.content()
    )
    shot(page, "overview-phone")
    page.click("#signout")
    page.wait_for_selector("#signin-form")
    page.goto(f"{live['url']}/orgs/RAL")
    assert page.url.split("?")[0].endswith("/signin")
    context.close()


def test_admin_pages_render(live: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live["url"], live["admin"], "/users")
    assert page.locator("#users tbody tr").count() == 5  # analyst, lead, admin, tuner, triager
    shot(page, "users")
    page.goto(f"{live['url']}/tokens")
    assert "siem export" in page.locator("#tokens").inner_text()
    shot(page, "tokens")
    page.goto(f"{live['url']}/audit")
    assert "user.sign_in" in page.locator("#audit").inner_text()
    shot(page, "audit")
    context.close()


def test_lead_responds_to_an_advisory(live: dict[str, Any], browser: Any) -> None:
    # Published to RAL alone; e-mail goes to a port nothing listens on (recorded as failed).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp = adv.SmtpConfig(host="127.0.0.1", port=probe.getsockname()[1])
    content = adv.AlertContent(
        title="Actively exploited flaw in Example VPN", severity=adv.AlertSeverity.HIGH
    )
    with live["store"].session() as session:
        ref = adv.draft_alert(
            session, content, author=Actor.cli("test"), organisations=("RAL",)
        ).ref
        adv.publish(session, ref, actor=Actor.cli("test"), policy=adv.Policy(), smtp=smtp)
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["lead"], "/advisories")
    page.click(f'#advisories a[href="/advisories/{ref}"]')
    page.wait_for_selector("#respond-acknowledge")
    row = page.locator('#response-table tr[data-response="RAL"] .response-ack')
    assert "not yet" in row.inner_text()
    page.click("#respond-acknowledge button[type=submit]")
    page.wait_for_selector("#response-table")
    assert page.url.endswith(f"/advisories/{ref}?done=acknowledge&orgs=RAL#responses")
    assert "Acknowledged" in row.inner_text()
    shot(page, "advisory-lead")
    assert errors == []
    context.close()


def test_admin_switches_a_rule_off_for_one_organisation(live: dict[str, Any], browser: Any) -> None:
    rule_id = "451b3c28-3fed-4081-aef7-5230e65f58a7"  # the demo's Log4Shell rule
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["tuner"], "/rules")
    assert page.locator("#rules tbody tr").count() == 6  # three Sigma rules, three built-in checks
    page.select_option("#level", "high")  # the filter submits itself
    page.wait_for_url(re.compile(r"/rules\?.*level=high"))
    assert page.locator("#rules tbody tr").count() == 3
    shot(page, "rules")
    page.click(f'#rules a[href="/rules/{rule_id}"]')
    page.wait_for_selector("#tuning-form")
    assert "${jndi:" in page.locator("#rule-yaml").inner_text()
    page.fill("#tune-org", "RAL")
    page.select_option("#tune-enabled", "off")
    page.click("#tuning-form button[type=submit]")
    page.wait_for_selector('#tuning-table tr[data-org="RAL"]')
    assert page.url.endswith(f"/rules/{rule_id}#tuning")
    assert "off" in page.locator('#tuning-table tr[data-org="RAL"]').inner_text()
    assert "Off for RAL" in (page.locator("#rule-state").text_content() or "")
    shot(page, "rule")
    with live["store"].session() as session:
        assert detect.load_tuning(session).disabled_for == {(rule_id, "RAL")}
        events, _ = audit.list_events(session, action="rule.disable")
    assert [(e.actor, e.org) for e in events] == [("user:tuner", "RAL")]
    assert errors == []
    context.close()


def test_a_lead_sets_its_organisations_port_scan_threshold_by_keyboard(
    live: dict[str, Any], browser: Any
) -> None:
    context, page, errors = open_page(browser)
    sign_in(page, live["url"], live["lead"], "/rules/builtin:port-scan")
    page.wait_for_selector("#threshold-form")
    national = page.locator('#threshold-table tr[data-threshold="ports"] .threshold-national')
    assert national.inner_text() == "50"
    page.select_option("#threshold-org", "RAL")  # a lead picks among its own organisations
    page.fill("#threshold-value", "20")
    page.press("#threshold-value", "Enter")  # Enter submits with the first button: Set
    page.wait_for_selector('#threshold-table span[data-org="RAL"]')
    assert page.url.endswith("/rules/builtin:port-scan#thresholds")
    assert page.locator('#threshold-table span[data-org="RAL"]').inner_text() == "RAL 20"
    with live["store"].session() as session:
        tuned = detect.load_tuning(session).thresholds
        events, _ = audit.list_events(session, action="rule.threshold")
    assert tuned.value("builtin:port-scan", "ports", "RAL") == 20
    assert tuned.value("builtin:port-scan", "ports", "RJ1") == 50
    assert [(e.actor, e.org, e.after) for e in events] == [
        ("user:lead", "RAL", {"name": "ports", "value": 20})
    ]
    assert errors == []
    context.close()


def test_analyst_triages_from_the_queue_and_the_alert_page_with_the_keyboard(
    live: dict[str, Any], browser: Any
) -> None:
    context, page, errors = open_page(browser, 1400)
    sign_in(page, live["url"], live["triager"], "/alerts?org=RJ1")
    rows = page.locator("#alerts tbody tr")
    assert rows.count() == 3
    # dates stay on one line at 1,400 px
    for cell in page.locator("#alerts tbody td.when").all():
        assert cell.evaluate("e => e.getClientRects().length") == 1
        height = cell.evaluate("e => e.firstElementChild.getClientRects().length")
        assert height == 1, cell.inner_text()
    # tick two alerts and acknowledge them with one reason, by keyboard alone
    ticked = [int(rows.nth(i).get_attribute("data-alert")) for i in (0, 1)]
    for alert_id in ticked:
        page.focus(f"#tick-{alert_id}")
        page.keyboard.press("Space")
    page.focus("#bulk-reason")
    page.keyboard.type("weekly sweep")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/alerts\?org=RJ1$", page.url), page.url
    states = {
        int(r.get_attribute("data-alert")): r.locator(".triage-state").get_attribute("data-state")
        for r in page.locator("#alerts tbody tr").all()
    }
    assert sorted(a for a, s in states.items() if s == "acknowledged") == sorted(ticked)
    shot(page, "alert-queue")
    # the alert page: assign, then close, each recorded in its history
    page.click(f'#alerts a[href="/alerts/{ticked[0]}"]')
    page.wait_for_selector("#triage")
    page.focus("#assign-to")
    page.keyboard.type("soc-team")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/alerts/{ticked[0]}#triage"), page.url
    assert page.locator("#assignee").inner_text() == "soc-team"
    page.select_option("#close-resolution", "false_positive")
    page.fill("#close-reason", "lab scanner")
    page.click("#close")
    page.wait_for_selector('#triage-state[data-state="closed"]')
    history = page.locator("#history").inner_text()
    assert "weekly sweep" in history
    assert "lab scanner" in history
    assert "user:triager" in history
    assert "'10.20.1.5' IN" in page.locator("#hunt-query").inner_text()
    assert page.locator("#group-alerts tbody tr").count() >= 1
    shot(page, "alert-triaged")
    with live["store"].session() as session:
        events, _ = audit.list_events(session, actor="user:triager")
    assert sorted(e.action for e in events if e.action.startswith("alert.")) == [
        "alert.acknowledge",
        "alert.acknowledge",
        "alert.assign",
        "alert.close",
    ]
    assert errors == []
    context.close()
