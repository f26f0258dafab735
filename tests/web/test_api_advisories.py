"""The advisories API end to end on the ASGI app: draft, preview, publish, respond, close.

E-mail goes to a real local SMTP server (aiosmtpd, as in tests/advisories);
another organisation's lead is answered 404, a viewer 403 on writes, and
every change lands in the platform audit trail and the advisories' own.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.advisories.smtp import Mailbox, smtp_server  # noqa: F401  (fixture)
from tests.web.conftest import ClientAs

from bastion import audit
from bastion.advisories.notify import SmtpConfig
from bastion.auth import Role
from bastion.store import Store
from bastion.web.testing import create_person, open_session, signed_in_client

pytestmark = pytest.mark.anyio

API = "/api/v1/advisories"
DRAFT = {
    "title": "Remote code execution in Example VPN gateways",
    "severity": "high",
    "summary": "Patch Example VPN now.",
    "remediation": "Upgrade to 9.1.",
    "cves": ["CVE-2021-44228"],
    "organisations": ["RAL", "RJ1"],
}


@pytest.fixture
def mail(app: FastAPI, smtp_server: tuple[SmtpConfig, Mailbox]) -> Mailbox:  # noqa: F811
    config, mailbox = smtp_server
    app.state.advisories_smtp = config
    return mailbox


async def test_an_alert_from_draft_to_closed_response(
    app: FastAPI, store: Store, client_as: ClientAs, mail: Mailbox
) -> None:
    async with client_as("analyst") as analyst:
        drafted = await analyst.post(API, json=DRAFT)
        assert drafted.status_code == 201, drafted.text
        ref = drafted.json()["ref"]
        assert drafted.json()["status"] == "draft"
        edited = await analyst.put(f"{API}/{ref}", json={**DRAFT, "summary": "Patch it today."})
        assert edited.json()["content"]["summary"] == "Patch it today."
        preview = (await analyst.get(f"{API}/{ref}/preview")).json()
        assert [(t["organisation"], t["named"]) for t in preview] == [("RAL", True), ("RJ1", True)]
        assert preview[0]["contacts"] == ["ann.example@royalfree.example"]
        published = await analyst.post(f"{API}/{ref}/publish")
        assert published.status_code == 200, published.text
        assert sorted(published.json()["organisations"]) == ["RAL", "RJ1"]
        assert published.json()["emails_sent"] == 1
    [email] = mail.to("ann.example@royalfree.example")
    assert ref in email["Subject"]
    assert "Example VPN" in email["Subject"]
    assert "Patch it today." in email.get_content()

    async with client_as("lead") as lead:
        page = (await lead.get(API)).json()
        assert [a["ref"] for a in page["items"]] == [ref]
        shown = (await lead.get(f"{API}/{ref}")).json()
        # A member sees its own response only, and not whom else the analyst named.
        assert [r["organisation"] for r in shown["responses"]] == ["RAL"]
        assert shown["organisations"] is None
        acked = await lead.post(
            f"{API}/{ref}/responses/acknowledge", json={"organisations": ["RAL"]}
        )
        assert acked.status_code == 200, acked.text
        assert acked.json()[0]["acknowledged_by"] == "user:lead"
        applies = await lead.post(
            f"{API}/{ref}/responses/applicability",
            json={"organisations": ["RAL"], "applicability": "applicable"},
        )
        assert applies.json()[0]["applicability"] == "applicable"
        action = await lead.post(
            f"{API}/{ref}/responses/actions",
            json={"organisations": ["RAL"], "description": "Upgrade both gateways"},
        )
        assert action.status_code == 201, action.text
        [action_id] = action.json()["actions"]
        updated = await lead.post(
            f"{API}/{ref}/actions/{action_id}/updates",
            json={"note": "first gateway upgraded", "status": "in_progress"},
        )
        assert updated.status_code == 200, updated.text
        [act] = updated.json()["actions"]
        assert act["status"] == "in_progress"
        assert act["updates"][0]["note"] == "first gateway upgraded"
        closed = await lead.post(f"{API}/{ref}/responses/close", json={"organisations": ["RAL"]})
        assert closed.status_code == 200, closed.text
        assert closed.json()[0]["status"] == "closed"
        assert closed.json()[0]["remediated_at"] is not None
        again = await lead.post(
            f"{API}/{ref}/responses/actions",
            json={"organisations": ["RAL"], "description": "too late"},
        )
        assert again.status_code == 409

    with store.session() as session:
        events, _ = audit.list_events(session)
        platform = [(e.action, e.org) for e in reversed(events) if e.action.startswith("advisory.")]
    assert platform == [
        ("advisory.draft", None),
        ("advisory.edit", None),
        ("advisory.publish", None),
        ("advisory.acknowledge", "RAL"),
        ("advisory.applicability", "RAL"),
        ("advisory.action_add", "RAL"),
        ("advisory.action_update", "RAL"),
        ("advisory.close", "RAL"),
    ]


async def test_other_tenants_get_404_and_viewers_403(
    app: FastAPI, store: Store, client_as: ClientAs, mail: Mailbox
) -> None:
    async with client_as("analyst") as analyst:
        only_ral = (await analyst.post(API, json={**DRAFT, "organisations": ["RAL"]})).json()["ref"]
        both = (await analyst.post(API, json=DRAFT)).json()["ref"]
        draft = (await analyst.post(API, json=DRAFT)).json()["ref"]
        for ref in (only_ral, both):
            assert (await analyst.post(f"{API}/{ref}/publish")).status_code == 200
    rj1_lead = create_person(store, "rj1lead", None, (("RJ1", Role.ORG_LEAD),))
    cookie, csrf = open_session(store, rj1_lead)
    async with signed_in_client(app, cookie, csrf) as other:
        listed = (await other.get(API)).json()
        assert [a["ref"] for a in listed["items"]] == [both]
        assert (await other.get(f"{API}/{only_ral}")).status_code == 404
        assert (await other.get(f"{API}/{draft}")).status_code == 404
        assert (await other.get(f"{API}/CC-9999")).status_code == 404
        shown = (await other.get(f"{API}/{both}")).json()
        assert [r["organisation"] for r in shown["responses"]] == ["RJ1"]
        # RAL's response to an alert both received: not found for RJ1's lead.
        theirs = await other.post(
            f"{API}/{both}/responses/acknowledge", json={"organisations": ["RAL"]}
        )
        assert theirs.status_code == 404
        assert "RAL" in theirs.json()["detail"]
        hidden = await other.post(
            f"{API}/{only_ral}/responses/acknowledge", json={"organisations": ["RAL"]}
        )
        assert hidden.status_code == 404
        assert (await other.post(API, json=DRAFT)).status_code == 403
    async with client_as("viewer") as viewer:
        assert (await viewer.get(f"{API}/{both}")).status_code == 200
        refused = await viewer.post(
            f"{API}/{both}/responses/acknowledge", json={"organisations": ["RAL"]}
        )
        assert refused.status_code == 403
        assert (await viewer.post(f"{API}/{draft}/publish")).status_code == 403
    async with client_as("multi") as multi:  # viewer at RAL, lead at RJ1
        both_at_once = await multi.post(
            f"{API}/{both}/responses/acknowledge", json={"organisations": ["RJ1", "RAL"]}
        )
        assert both_at_once.status_code == 403  # a viewer at RAL: nothing is changed
        at_rj1 = await multi.post(
            f"{API}/{both}/responses/acknowledge", json={"organisations": ["RJ1"]}
        )
        assert at_rj1.status_code == 200
    async with client_as("lead") as lead:
        ral = (await lead.get(f"{API}/{both}")).json()["responses"][0]
        assert ral["acknowledged_at"] is None


async def test_malformed_input_is_a_4xx(client: httpx.AsyncClient, mail: Mailbox) -> None:
    bad: list[tuple[str, str, dict[str, Any]]] = [
        ("post", API, {"json": {**DRAFT, "severity": "apocalyptic"}}),
        ("post", API, {"json": {**DRAFT, "title": ""}}),
        ("post", API, {"json": {**DRAFT, "surprise": 1}}),
        ("post", API, {"json": {**DRAFT, "cves": ["not-a-cve"]}}),
        ("post", API, {"json": {**DRAFT, "organisations": ["ZZZ9"]}}),
        ("post", API, {"content": b"{not json", "headers": {"content-type": "application/json"}}),
        ("get", f"{API}/not a ref", {}),
        ("get", API, {"params": {"limit": 0}}),
        ("get", API, {"params": {"status": "weird"}}),
    ]
    for method, url, kwargs in bad:
        answer = await client.request(method.upper(), url, **kwargs)
        assert 400 <= answer.status_code < 500, (url, kwargs, answer.status_code, answer.text)
    ref = (await client.post(API, json=DRAFT)).json()["ref"]
    bodies: list[dict[str, Any]] = [
        {"organisations": []},
        {"organisations": ["RAL"], "applicability": "maybe"},
        {"organisations": ["bad code!"], "applicability": "applicable"},
    ]
    for body in bodies:
        answer = await client.post(f"{API}/{ref}/responses/applicability", json=body)
        assert 400 <= answer.status_code < 500, (body, answer.text)
    # Responding to a draft: it reached nobody yet.
    answer = await client.post(
        f"{API}/{ref}/responses/acknowledge", json={"organisations": ["RAL"]}
    )
    assert answer.status_code == 404
    revised = await client.post(
        f"{API}/{ref}/revisions", json={**DRAFT, "organisations": [], "note": "x"}
    )
    assert revised.status_code == 409  # a draft is edited, not revised
