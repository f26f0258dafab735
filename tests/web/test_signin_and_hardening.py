"""Signing in through the console, CSRF, cookies, headers, limits, and no secrets in logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bastion import audit, auth
from bastion.store import Store
from bastion.web.auth import CSRF_HEADER, PRE_COOKIE, SESSION_COOKIE
from bastion.web.testing import PASSWORD, Person

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    """These checks do not depend on the database: SQLite only (tests/auth runs both backends)."""
    return sqlite_store


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the form carries no CSRF token"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, person: Person, next: str = "/overview"
) -> httpx.Response:
    """Go through the sign-in pages as a browser would; return the last answer."""
    form = await client.get("/signin", params={"next": next})
    answer = await client.post(
        "/signin",
        data={
            "username": person.username,
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": next,
        },
    )
    if (
        person.totp_secret
        and answer.status_code == 303
        and "/signin/totp" in answer.headers["location"]
    ):
        page = await client.get(answer.headers["location"])
        answer = await client.post(
            "/signin/totp",
            data={
                "code": auth.totp_now(person.totp_secret),
                "csrf_token": csrf_of(page.text),
                "next": next,
            },
        )
    return answer


async def test_sign_in_with_password_and_totp_then_see_the_overview(
    anonymous_client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    first = await anonymous_client.get("/orgs/RAL")
    assert first.status_code == 303
    assert first.headers["location"] == "/signin?next=%2Forgs%2FRAL"
    form = await anonymous_client.get("/signin")
    assert PRE_COOKIE in form.cookies
    password_step = await anonymous_client.post(
        "/signin",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "/orgs/RAL",
        },
    )
    assert password_step.status_code == 303
    assert password_step.headers["location"].startswith("/signin/totp")
    # Half signed in is not signed in.
    assert (await anonymous_client.get("/orgs/RAL")).status_code == 303
    page = await anonymous_client.get(password_step.headers["location"])
    secret = people["admin"].totp_secret
    assert secret
    done = await anonymous_client.post(
        "/signin/totp",
        data={"code": auth.totp_now(secret), "csrf_token": csrf_of(page.text), "next": "/orgs/RAL"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/orgs/RAL"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the TLS test
    org = await anonymous_client.get("/orgs/RAL")
    assert org.status_code == 200
    assert 'id="whoami">admin' in org.text


async def test_wrong_password_is_401_and_counts_towards_lockout(
    anonymous_client: httpx.AsyncClient, people: dict[str, Person], store: Store
) -> None:
    form = await anonymous_client.get("/signin")
    token = csrf_of(form.text)
    for _ in range(auth.signin.MAX_FAILURES):
        wrong = await anonymous_client.post(
            "/signin", data={"username": "lead", "password": "wrong wrong", "csrf_token": token}
        )
        assert wrong.status_code == 401
        assert "wrong username or password" in wrong.text
    right = await anonymous_client.post(
        "/signin", data={"username": "lead", "password": PASSWORD, "csrf_token": token}
    )
    assert right.status_code == 401  # locked, even with the right password
    with store.session() as session:
        assert auth.get_user(session, "lead").locked_until is not None


async def test_sign_in_form_without_its_csrf_token_is_refused(
    anonymous_client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    await anonymous_client.get("/signin")
    answer = await anonymous_client.post(
        "/signin", data={"username": "lead", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.cookies


async def test_next_never_leaves_the_site(
    anonymous_client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        answer = await sign_in(anonymous_client, people["lead"], next=evil)
        assert answer.headers["location"] == "/overview", evil


async def test_cookie_is_secure_and_hsts_is_sent_behind_tls(
    app: FastAPI, people: dict[str, Person]
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        answer = await sign_in(client, people["lead"])
        assert "Secure" in answer.headers["set-cookie"]
        assert answer.headers["strict-transport-security"].startswith("max-age=")


async def test_state_changes_with_the_cookie_need_the_csrf_token(
    app: FastAPI, sessions: dict[str, tuple[str, str]]
) -> None:
    cookie, csrf = sessions["admin"]
    body = {"code": "RZZ", "name": "New Trust", "type": "trust"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies={SESSION_COOKIE: cookie}
    ) as client:
        forged = await client.post("/api/v1/organisations", json=body)
        assert forged.status_code == 403
        assert "CSRF" in forged.json()["detail"]
        form = await client.post("/signout", data={"csrf_token": "wrong"})
        assert form.status_code == 403
        made = await client.post("/api/v1/organisations", json=body, headers={CSRF_HEADER: csrf})
        assert made.status_code == 201


async def test_a_bearer_token_needs_no_csrf_token_and_is_bounded_by_its_scopes(
    app: FastAPI, store: Store
) -> None:
    with store.session() as session:
        writer = auth.create_token(
            session, auth.system_principal("t"), "w", ["orgs:write", "orgs:read"]
        )
        reader = auth.create_token(session, auth.system_principal("t"), "r", ["orgs:read"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = {"code": "RZY", "name": "Token Trust", "type": "trust"}
        made = await client.post(
            "/api/v1/organisations", json=body, headers={"Authorization": f"Bearer {writer.value}"}
        )
        assert made.status_code == 201
        refused = await client.post(
            "/api/v1/organisations",
            json={**body, "code": "RZX"},
            headers={"Authorization": f"Bearer {reader.value}"},
        )
        assert refused.status_code == 403
        alerts = await client.get(
            "/api/v1/alerts", headers={"Authorization": f"Bearer {reader.value}"}
        )
        assert alerts.status_code == 403
        bad = await client.get("/api/v1/me", headers={"Authorization": "Bearer bst_1_nope"})
        assert bad.status_code == 401
    with store.session() as session:
        events, _ = audit.list_events(session, target="organisation:RZY")
    assert [(e.actor, e.action) for e in events] == [
        (f"token:{writer.token.id}", "organisation.create")
    ]
    assert events[0].after is not None
    assert events[0].after["code"] == "RZY"


async def test_sign_out_ends_the_session_and_everywhere_ends_them_all(
    app: FastAPI, store: Store, people: dict[str, Person], client_as: Callable[..., object]
) -> None:
    lead = people["lead"]
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as laptop,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as phone,
    ):
        await sign_in(laptop, lead)
        await sign_in(phone, lead)
        assert (await phone.get("/overview")).status_code == 200
        page = await laptop.get("/overview")
        out = await laptop.post("/signout", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 303
        assert (await laptop.get("/overview")).status_code == 303
        assert (await phone.get("/overview")).status_code == 200
        await sign_in(laptop, lead)
        page = await laptop.get("/overview")
        everywhere = await laptop.post(
            "/signout/everywhere", data={"csrf_token": csrf_of(page.text)}
        )
        assert everywhere.status_code == 303
        assert (await phone.get("/overview")).status_code == 303
        assert (await laptop.get("/overview")).status_code == 303


async def test_every_answer_carries_the_security_headers(
    client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    for answer in (
        await client.get("/overview"),
        await client.get("/api/v1/organisations"),
        await anonymous_client.get("/health"),
        await anonymous_client.get("/signin"),
        await anonymous_client.get("/static/bastion.css"),
    ):
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in answer.headers  # not over plain HTTP


async def test_pages_have_no_inline_script_or_style(client: httpx.AsyncClient) -> None:
    for path in ("/overview", "/", "/orgs/RAL", "/alerts", "/users", "/tokens", "/audit", "/docs"):
        html = (await client.get(path)).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+=", html), path
        assert " style=" not in html, path
        assert "<style" not in html, path


async def test_large_bodies_are_413_before_reaching_a_route(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/v1/organisations",
        content=b"x" * (5 << 20),
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert "too large" in answer.json()["detail"]


async def test_sign_in_and_api_are_rate_limited(
    store: Store, tmp_path: Path, make_app: Callable[[Store, Path], FastAPI]
) -> None:
    from bastion.core.settings import Settings
    from bastion.web import create_app

    make_app(store, tmp_path)  # seeds the federation
    from bastion.web.testing import create_person, open_session, signed_in_client

    limited = create_app(
        store, Settings(data_dir=tmp_path), signin_limit=(3, 60.0), api_limit=(5, 60.0)
    )
    lead = create_person(store, "lead", None, (("RAL", auth.Role.ORG_LEAD),))
    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        form = await client.get("/signin")
        data = {"username": "x", "password": "y", "csrf_token": csrf_of(form.text)}
        codes = [(await client.post("/signin", data=data)).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    cookie, csrf = open_session(store, lead)
    async with signed_in_client(limited, cookie, csrf) as client:
        answers = [await client.get("/api/v1/me") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert int(answers[-1].headers["retry-after"]) >= 1


async def test_no_password_or_session_id_reaches_the_logs(
    anonymous_client: httpx.AsyncClient, people: dict[str, Person], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = await sign_in(anonymous_client, people["admin"])
    cookie = anonymous_client.cookies.get(SESSION_COOKIE)
    assert answer.status_code == 303
    assert cookie
    await anonymous_client.get("/overview")
    logged = caplog.text
    assert PASSWORD not in logged
    assert cookie not in logged


async def test_audit_page_and_exports_for_auditors_only(
    client_as: Callable[..., object], store: Store
) -> None:
    with store.session() as session:
        auth.set_totp_policy(session, auth.system_principal("t"), "RAL", True)
    async with client_as("auditor") as auditor:  # type: ignore[attr-defined]
        page = await auditor.get("/audit", params={"action": "organisation."})
        as_csv = await auditor.get("/audit/export.csv")
        as_json = await auditor.get("/audit/export.json", params={"org": "RAL"})
        api = await auditor.get("/api/v1/audit", params={"action": "organisation.totp"})
    assert page.status_code == 200
    assert "organisation.totp_policy" in page.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert as_csv.text.splitlines()[0] == "id,at,actor,actor_ip,action,target,org,before,after"
    # The seeded federation's own creation is there too, oldest first.
    assert [e["action"] for e in as_json.json()] == [
        "organisation.create",
        "organisation.totp_policy",
    ]
    assert api.json()["total"] == 1
    async with client_as("analyst") as analyst:  # type: ignore[attr-defined]
        assert (await analyst.get("/audit/export.csv")).status_code == 403


async def test_tokens_page_creates_shows_once_and_revokes(
    client: httpx.AsyncClient, store: Store
) -> None:
    page = await client.get("/tokens")
    made = await client.post(
        "/tokens",
        data={
            "name": "siem",
            "org": "RAL",
            "days": "30",
            "scopes": ["alerts:read", "orgs:read"],
            "csrf_token": csrf_of(page.text),
        },
    )
    assert made.status_code == 201
    value = re.search(r'id="token-value">(bst_[^<]+)<', made.text)
    assert value
    again = await client.get("/tokens")
    assert value.group(1) not in again.text
    with store.session() as session:
        tokens, _ = auth.list_tokens(session)
        assert auth.find_token(session, value.group(1)) is not None
    revoked = await client.post(
        f"/tokens/{tokens[0].id}/revoke", data={"csrf_token": csrf_of(again.text)}
    )
    assert revoked.status_code == 303
    with store.session() as session:
        assert auth.find_token(session, value.group(1)) is None
    bad = await client.post(
        "/tokens", data={"name": "x", "scopes": ["nope:read"], "csrf_token": csrf_of(again.text)}
    )
    assert bad.status_code == 400
    assert "unknown scope" in bad.text


async def test_overview_draws_charts_and_figures_of_the_scope(
    client_as: Callable[..., object],
) -> None:
    async with client_as("lead") as lead:  # type: ignore[attr-defined]
        page = await lead.get("/overview")
    assert page.status_code == 200
    assert page.text.count('<svg class="chart"') == 2
    # Named, not only coded: "Your organisations: Royal Free London NHS Foundation Trust (RAL)".
    assert re.search(
        r"Your organisations: Royal Free London NHS Foundation Trust <span[^>]*>\(RAL\)", page.text
    )
    assert re.search(r'id="figure-orgs">1<', page.text)


def test_access_log_lines_lose_their_secret_query_parameters() -> None:
    from bastion.web.security import RedactSecrets

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/signin/oidc/callback?code=abc123&state=xyz&x=1", "1.1", 303),
        None,
    )
    assert RedactSecrets().filter(record)
    line = record.getMessage()
    assert "abc123" not in line
    assert "xyz" not in line
    assert "code=[redacted]&state=[redacted]&x=1" in line


async def test_users_page_sorts_filters_and_refuses_unknown_sorts(
    client: httpx.AsyncClient,
) -> None:
    by_name = (await client.get("/users")).text
    names = re.findall(r'data-user="([^"]+)"', by_name)
    assert names == sorted(names)
    assert len(names) == 6
    newest = re.findall(
        r'data-user="([^"]+)"', (await client.get("/users", params={"sort": "last_sign_in"})).text
    )
    assert set(newest) == set(names)
    members = re.findall(
        r'data-user="([^"]+)"', (await client.get("/users", params={"org": "RJ1"})).text
    )
    assert members == ["multi"]
    bad = await client.get("/users", params={"sort": "password"})
    assert bad.status_code == 400
    assert "unknown sort" in bad.text


async def test_an_administrator_creates_a_user_who_can_then_sign_in(
    client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    page = await client.get("/users")
    token = csrf_of(page.text)
    made = await client.post(
        "/users",
        data={
            "username": "Erin",
            "name": "Erin",
            "role": "org_lead",
            "org": "RJ1",
            "csrf_token": token,
        },
    )
    assert made.status_code == 201
    password = re.search(r'id="new-password">([^<]+)<', made.text)
    assert password
    assert 'id="new-totp"' not in made.text  # a member of an organisation without the policy
    form = await anonymous_client.get("/signin")
    signed = await anonymous_client.post(
        "/signin",
        data={"username": "erin", "password": password.group(1), "csrf_token": csrf_of(form.text)},
    )
    assert signed.status_code == 303
    assert (await anonymous_client.get("/orgs/RJ1")).status_code == 200
    assert (await anonymous_client.get("/orgs/RAL")).status_code == 404
    national = await client.post(
        "/users", data={"username": "fay", "role": "auditor", "csrf_token": token}
    )
    assert 'id="new-totp"' in national.text
    mixed = await client.post(
        "/users", data={"username": "gus", "role": "auditor", "org": "RAL", "csrf_token": token}
    )
    assert mixed.status_code == 400
    assert "national role without an organisation" in mixed.text
