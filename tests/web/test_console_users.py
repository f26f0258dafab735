"""Editing users in the console: roles, memberships, disable, second factor, sign-out; audited."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from tests.web.conftest import ClientAs

from bastion import audit, auth
from bastion.store import Store
from bastion.web.testing import signed_in_client

pytestmark = pytest.mark.anyio


def trail(store: Store, username: str) -> list[audit.AuditEvent]:
    """The user's audit events, oldest first."""
    with store.session() as session:
        found, _ = audit.list_events(session, target=f"user:{username}")
    return list(reversed(found))


async def still_signed_in(app: FastAPI, sessions: dict[str, tuple[str, str]], name: str) -> bool:
    cookie, csrf = sessions[name]
    async with signed_in_client(app, cookie, csrf) as c:
        return (await c.get("/api/v1/me")).status_code == 200


async def test_a_national_role_comes_with_a_new_second_factor_shown_once(
    client: httpx.AsyncClient, app: FastAPI, sessions: dict[str, tuple[str, str]], store: Store
) -> None:
    assert await still_signed_in(app, sessions, "viewer")
    answer = await client.post("/users/viewer/role", data={"role": "national_analyst"})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert 'id="new-totp"' in answer.text
    with store.session() as session:
        user = auth.get_user(session, "viewer")
    assert (user.national_role, user.totp_enabled) == (auth.Role.NATIONAL_ANALYST, True)
    # The next sign-in asks for the new factor: the sessions made without it are over.
    assert not await still_signed_in(app, sessions, "viewer")
    [event] = [e for e in trail(store, "viewer") if e.action == "user.national_role"]
    assert event.actor == "user:admin"
    assert (event.before or {})["national_role"] is None
    assert (event.after or {})["national_role"] == "national_analyst"
    again = await client.get("/users/viewer")
    assert 'id="new-totp"' not in again.text


async def test_a_role_change_that_keeps_the_factor_keeps_the_sessions(
    client: httpx.AsyncClient, app: FastAPI, sessions: dict[str, tuple[str, str]], store: Store
) -> None:
    assert await still_signed_in(app, sessions, "analyst")
    answer = await client.post("/users/analyst/role", data={"role": "auditor"})
    assert (answer.status_code, answer.headers["location"]) == (303, "/users/analyst")
    assert await still_signed_in(app, sessions, "analyst")
    # The new role holds at once: an auditor may read the audit trail, an analyst may not.
    cookie, csrf = sessions["analyst"]
    async with signed_in_client(app, cookie, csrf) as analyst:
        assert (await analyst.get("/audit")).status_code == 200
    # Nobody is left without a role: the analyst (now auditor) has no organisation.
    stripped = await client.post("/users/analyst/role", data={"role": ""})
    assert stripped.status_code == 400
    assert "grant one before removing" in stripped.text
    assert (await client.post("/users/analyst/role", data={"role": "org_lead"})).status_code == 400


async def test_memberships_are_granted_and_revoked_with_effect_at_once(
    client: httpx.AsyncClient, client_as: ClientAs, store: Store
) -> None:
    granted = await client.post(
        "/users/lead/memberships", data={"org": "rj1", "role": "org_viewer"}
    )
    assert granted.status_code == 303
    async with client_as("lead") as lead:
        codes = {o["code"] for o in (await lead.get("/api/v1/organisations")).json()["items"]}
        assert codes == {"RAL", "RJ1"}
        revoked = await client.post("/users/lead/memberships/revoke", data={"org": "RAL"})
        assert revoked.status_code == 303
        codes = {o["code"] for o in (await lead.get("/api/v1/organisations")).json()["items"]}
        assert codes == {"RJ1"}
    events = [
        (e.action, e.before, e.after)
        for e in trail(store, "lead")
        if e.action in ("user.grant", "user.revoke")
    ]
    assert events[0][0] == "user.grant"
    assert (events[0][1] or {})["memberships"] == {"RAL": "org_lead"}
    assert (events[0][2] or {})["memberships"] == {"RAL": "org_lead", "RJ1": "org_viewer"}
    assert events[1][0] == "user.revoke"
    assert (events[1][2] or {})["memberships"] == {"RJ1": "org_viewer"}
    page = (await client.get("/users/lead")).text
    assert 'data-org="RJ1"' in page
    assert 'data-org="RAL"' not in page
    unknown_org = await client.post(
        "/users/lead/memberships", data={"org": "ZZZ9", "role": "org_lead"}
    )
    not_member = await client.post("/users/lead/memberships/revoke", data={"org": "A81001"})
    national = await client.post("/users/lead/memberships", data={"org": "RJ1", "role": "auditor"})
    assert (unknown_org.status_code, not_member.status_code, national.status_code) == (
        404,
        404,
        400,
    )


async def test_disabling_ends_sessions_and_nobody_disables_themselves(
    client: httpx.AsyncClient, app: FastAPI, sessions: dict[str, tuple[str, str]], store: Store
) -> None:
    assert await still_signed_in(app, sessions, "lead")
    # Without confirm=yes the console asks first and changes nothing.
    asked = await client.post("/users/lead/status", data={"status": "disabled"})
    assert asked.status_code == 200
    assert 'id="confirm-form"' in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert "button-danger" in asked.text
    assert await still_signed_in(app, sessions, "lead")
    disabled = await client.post(
        "/users/lead/status", data={"status": "disabled", "confirm": "yes"}
    )
    assert disabled.status_code == 303
    assert not await still_signed_in(app, sessions, "lead")
    assert "Disabled" in (await client.get("/users/lead")).text
    enabled = await client.post("/users/lead/status", data={"status": "active"})
    assert enabled.status_code == 303
    with store.session() as session:
        assert not auth.get_user(session, "lead").disabled
    assert [e.action for e in trail(store, "lead") if e.action.endswith("able")] == [
        "user.disable",
        "user.enable",
    ]
    myself = await client.post("/users/admin/status", data={"status": "disabled", "confirm": "yes"})
    assert myself.status_code == 409
    demoted = await client.post("/users/admin/role", data={"role": "auditor"})
    assert demoted.status_code == 409
    odd = await client.post("/users/lead/status", data={"status": "asleep"})
    assert odd.status_code == 400


async def test_a_second_factor_reset_and_a_sign_out_everywhere(
    client: httpx.AsyncClient, app: FastAPI, sessions: dict[str, tuple[str, str]], store: Store
) -> None:
    assert await still_signed_in(app, sessions, "analyst")
    with store.session() as session:
        before = auth.get_user(session, "analyst")
    asked = await client.post("/users/analyst/reset-totp")
    assert 'id="confirm-form"' in asked.text
    assert "otpauth://totp/" not in asked.text
    assert await still_signed_in(app, sessions, "analyst")
    reset = await client.post("/users/analyst/reset-totp", data={"confirm": "yes"})
    assert reset.status_code == 200
    assert reset.headers["cache-control"] == "no-store"
    assert "otpauth://totp/" in reset.text
    assert before.totp_enabled
    assert not await still_signed_in(app, sessions, "analyst")
    assert await still_signed_in(app, sessions, "lead")
    signed_out = await client.post("/users/lead/sign-out")
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/users/lead")
    assert not await still_signed_in(app, sessions, "lead")
    [event] = [e for e in trail(store, "lead") if e.action == "user.sign_out_everywhere"]
    assert (event.actor, event.before, event.after) == (
        "user:admin",
        {"sessions": 1},
        {"sessions": 0},
    )
    assert [e.action for e in trail(store, "analyst")][-1] == "user.totp_reset"


async def test_only_national_administrators_edit_and_members_see_nothing(
    client_as: ClientAs, app: FastAPI, sessions: dict[str, tuple[str, str]]
) -> None:
    async with client_as("auditor") as auditor:
        page = await auditor.get("/users/lead")
        refused = await auditor.post("/users/lead/status", data={"status": "disabled"})
    assert page.status_code == 200
    assert 'id="status-form"' not in page.text  # read-only for an auditor
    assert refused.status_code == 403
    for member in ("lead", "viewer"):
        async with client_as(member) as c:
            assert (await c.get("/users/viewer")).status_code == 403
            assert (await c.post("/users/viewer/sign-out")).status_code == 403
    cookie, _ = sessions["admin"]
    async with signed_in_client(app, cookie, None) as no_csrf:
        forged = await no_csrf.post("/users/lead/status", data={"status": "disabled"})
    assert forged.status_code == 403
    assert await still_signed_in(app, sessions, "lead")


async def test_an_unknown_user_is_not_found(client: httpx.AsyncClient) -> None:
    assert (await client.get("/users/nobody")).status_code == 404
    assert (await client.post("/users/nobody/sign-out")).status_code == 404
    page = (await client.get("/users")).text
    assert 'href="/users/lead"' in page
