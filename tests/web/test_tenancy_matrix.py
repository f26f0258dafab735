"""Every route of the app × every role × own and other organisation: nothing crosses tenants.

The routes come from ``app.routes``: a route added without a row in ``CASES``
fails ``test_every_route_is_in_the_matrix``, so new pages are covered by
construction. For each role, a list must hold none of another tenant's
objects, and another tenant's object ids answer 404 (not 403), exactly as ids
that do not exist.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from tests.web.advisories_matrix import advisories_routes, advisory
from tests.web.alerts_matrix import alerts_routes
from tests.web.assure_matrix import assure_routes
from tests.web.audit_matrix import audit_routes
from tests.web.auth_matrix import auth_routes
from tests.web.behaviour_matrix import behaviour_routes
from tests.web.boundary_matrix import HUNT_SQL, boundary_routes
from tests.web.cases_matrix import case_routes
from tests.web.detect_matrix import RULE_ID, detect_routes
from tests.web.intel_matrix import intel_routes
from tests.web.matrix_rows import get
from tests.web.orgs_matrix import orgs_routes
from tests.web.password_audits_matrix import password_audit_routes
from tests.web.passwords_matrix import passwords_routes
from tests.web.scan_matrix import scan_routes
from tests.web.uptime_matrix import UPTIME_PUBLIC, uptime_routes

from bastion import audit, auth, intel
from bastion.alerts import list_alerts, record_alerts
from bastion.audit import Actor
from bastion.boundary.archive import write_batch
from bastion.demo.detection import install_demo_rules
from bastion.intel import feeds
from bastion.store import Store
from bastion.web.testing import Person, create_people, open_session, signed_in_client

pytestmark = pytest.mark.anyio

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
# Each organisation's alert carries markers that must never show to another tenant.
ORG_MARK = {
    "RAL": ("marker-ral-alert", "198.51.100.10"),
    "RJ1": ("marker-rj1-alert", "198.51.100.11"),
    "A81001": ("marker-a81001-alert", "198.51.100.12"),
}
ORG_NAMES = {"RAL": "Royal Free", "RJ1": "St Thomas", "A81001": "Densham"}
EVERYONE = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi", "token"})
NATIONAL = frozenset({"admin", "analyst", "auditor"})
# What each caller may see, and which organisation is "own" and "other" for it.
VISIBLE = {"lead": {"RAL"}, "viewer": {"RAL"}, "multi": {"RAL", "RJ1"}, "token": {"RAL"}}
TARGETS = {
    "lead": ("RAL", "RJ1"),
    "viewer": ("RAL", "RJ1"),
    "multi": ("RJ1", "A81001"),
    "token": ("RAL", "RJ1"),
}


def rule_hit(org: str) -> dict[str, Any]:
    """The demo's Log4Shell rule (``RULE_ID``) fired at ``org``: its host the org's marker IP."""
    return {
        **hit(org, 5),
        "host.ip": ORG_MARK[org][1],
        "kind": "rule",
        "key": f"sigma:{RULE_ID}",
        "title": "Log4Shell JNDI lookup in a web request",
        "indicator.type": "sigma-rule",
        "indicator.value": RULE_ID,
        "indicator.source": "sigma",
    }


def hit(org: str, minute: int) -> dict[str, Any]:
    title, value = ORG_MARK[org]
    return {
        "organization.id": org,
        "host.ip": "10.20.1.5",
        "@timestamp": T0 + timedelta(minutes=minute),
        "kind": "indicator",
        "key": f"ind-{org}",
        "title": title,
        "severity": "high",
        "blocked": minute % 2 == 0,
        "indicator.type": "ipv4",
        "indicator.value": value,
        "indicator.source": "feed-a",
        "indicator.threat": "",
        "event.original": f"raw line {title}",
        "log.file.path": "/l",
        "log.offset": minute,
        "event.dataset": "panos.traffic",
    }


@dataclass
class World:
    """What the matrix runs against: the app, its store, each caller's credentials, object ids."""

    app: FastAPI
    store: Store
    people: dict[str, Person]
    sessions: dict[str, tuple[str, str]]
    token_value: str
    alert_ids: dict[str, int]
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    advisories: dict[str, str] = field(default_factory=dict)  # one published alert per org
    advisory_actions: dict[str, int] = field(default_factory=dict)

    def client(self, role: str, *, fresh: bool = False) -> httpx.AsyncClient:
        if role == "token":
            return httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app),
                base_url="http://testserver",
                headers={"Authorization": f"Bearer {self.token_value}"},
            )
        cookie, csrf = self.sessions[role]
        if fresh:  # a case that ends sessions gets its own, a TOTP step later
            later = datetime.now(UTC) + timedelta(seconds=30 * next(self.counter))
            cookie, csrf = open_session(self.store, self.people[role], later)
        return signed_in_client(self.app, cookie, csrf)

    def new_user(self, org: str) -> str:
        """Create a viewer of ``org`` for a case that edits a user; return the username."""
        name = f"victim{next(self.counter)}"
        with self.store.session() as session:
            auth.create_user(
                session,
                auth.system_principal("test"),
                name,
                "a long enough password",
                memberships=[(org, auth.Role.ORG_VIEWER)],
            )
        return name

    def new_token(self, org: str) -> int:
        with self.store.session() as session:
            made = auth.create_token(
                session, auth.system_principal("test"), "victim", ["alerts:read"], org=org
            )
        return made.token.id


Request = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One route: how to call it at an organisation, who may, and what it answers then."""

    build: Callable[[World, str], Request]
    allowed: frozenset[str]
    ok: int = 200
    by_org: bool = False  # an object of one organisation: another tenant's answers 404
    fresh_session: bool = False


def archived_events() -> pl.DataFrame:
    """Two events per organisation, each carrying its organisation's markers."""
    rows = [
        {
            "@timestamp": T0 + timedelta(minutes=m),
            "organization.id": org,
            "source.ip": ORG_MARK[org][1],
            "event.dataset": "panos.traffic",
            "event.original": f"{ORG_MARK[org][0]} event {m}",
        }
        for org in ORG_MARK
        for m in (0, 1)
    ]
    return pl.DataFrame(rows)


PUBLIC = {
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/static"),
    ("GET", "/signin"),
    ("POST", "/signin"),
    ("GET", "/signin/totp"),
    ("POST", "/signin/totp"),
    ("GET", "/range/{prefix}"),  # breached-password ranges: k-anonymous, rate-limited by address
    ("GET", "/signin/oidc"),
    ("GET", "/signin/oidc/callback"),
} | UPTIME_PUBLIC  # status pages and push heartbeats
# Enforcement points' lists: a device token of the intel context, never a person's session.
DEVICE_ONLY = {("GET", "/blocklists/{kind}.txt")}

# The console's own pages; every other row comes from its context's `<context>_matrix.py`.
CONSOLE: dict[tuple[str, str], Case] = {
    ("GET", "/overview"): Case(get("/overview"), EVERYONE),
    ("GET", "/"): Case(get("/"), EVERYONE),
    ("GET", "/docs"): Case(get("/docs"), EVERYONE),
}


def joined(*parts: dict[tuple[str, str], Case]) -> dict[tuple[str, str], Case]:
    """Join the contexts' rows in order; a route in two of them is a mistake, not an override."""
    rows: dict[tuple[str, str], Case] = {}
    for part in parts:
        twice = rows.keys() & part.keys()
        assert not twice, f"routes with rows in two matrix modules: {sorted(twice)}"
        rows.update(part)
    return rows


# One line per context. The people rows come last: their sign-out rows end every
# session of their person.
CASES = joined(
    case_routes(Case, hit, advisory),
    orgs_routes(Case),
    alerts_routes(Case, hit),
    audit_routes(Case),
    CONSOLE,
    advisories_routes(Case),
    intel_routes(Case),
    passwords_routes(Case),
    password_audit_routes(Case),
    uptime_routes(Case),
    assure_routes(Case),
    scan_routes(Case),
    behaviour_routes(Case),
    detect_routes(Case),
    boundary_routes(Case),
    auth_routes(Case),
)


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, HEAD aside, included routers flattened."""
    found = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.route, Mount):
            found.add(("GET", str(context.path)))
        else:
            found.update((m, str(context.path)) for m in (context.methods or set()) - {"HEAD"})
    return found


def build_world(
    app: FastAPI, store: Store, people: dict[str, Person], sessions: dict[str, tuple[str, str]]
) -> World:
    """Record two alerts and archive two events per organisation, make an RAL-bound API
    token, then describe it all."""
    with store.session() as session:
        record_alerts(session, pl.DataFrame([hit(o, m) for o in ORG_MARK for m in (0, 1)]))
        record_alerts(session, pl.DataFrame([rule_hit(o) for o in ORG_MARK]))
    install_demo_rules(app.state.settings.rules_dir)
    write_batch(archived_events(), app.state.settings.archive_dir, "matrix")
    with store.session() as session:  # national intel: one indicator and one feed
        intel.store_listings(
            session,
            [intel.Indicator(intel.IndicatorType.DOMAIN, "matrix.bad.example", "matrix")],
            reason="matrix",
            actor=Actor.cli("test"),
        )
        # Port 9 (discard) refuses at once: every pull of it is a quick, recorded failure.
        feeds.add_feed(
            session,
            "matrix-feed",
            "plain",
            "http://127.0.0.1:9/list.txt",
            now=T0,
            actor=Actor.cli("test"),
        )
    with store.session() as session:
        found, _ = list_alerts(session)
        made = auth.create_token(
            session,
            auth.system_principal("test"),
            "ral feed",
            ["orgs:read", "alerts:read"],
            org="RAL",
        )
    return World(app, store, people, sessions, made.value, {a.org or "": a.id for a in found})


@pytest.fixture
def world(
    app: FastAPI, store: Store, people: dict[str, Person], sessions: dict[str, tuple[str, str]]
) -> World:
    """The matrix's world on SQLite and PostgreSQL."""
    return build_world(app, store, people, sessions)


@pytest.fixture
def sqlite_world(
    sqlite_store: Store, tmp_path: Path, make_app: Callable[[Store, Path], FastAPI]
) -> World:
    """The matrix's world on SQLite only: the full matrix is long, and its SQL is the same
    ``IN (...)`` on both backends, which the tests on `world` check on PostgreSQL too."""
    app = make_app(sqlite_store, tmp_path)
    people = create_people(sqlite_store)
    sessions = {name: open_session(sqlite_store, p) for name, p in people.items()}
    return build_world(app, sqlite_store, people, sessions)


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = app_routes(app)
    missing = routes - set(CASES) - PUBLIC - DEVICE_ONLY
    assert not missing, f"routes without a tenancy case in CASES: {sorted(missing)}"
    stale = (set(CASES) | PUBLIC | DEVICE_ONLY) - routes
    assert not stale, f"CASES name routes the app no longer has: {sorted(stale)}"


async def test_a_signed_in_person_gets_no_block_list_without_a_device_token(
    client: httpx.AsyncClient,
) -> None:
    # The national administrator's session opens every console page, but not a device's list.
    for kind in ("ip", "domain", "url"):
        assert (await client.get(f"/blocklists/{kind}.txt")).status_code == 401, kind


async def test_public_routes_need_no_sign_in(anonymous_client: httpx.AsyncClient) -> None:
    for path in ("/health", "/openapi.json", "/signin", "/static/bastion.css"):
        assert (await anonymous_client.get(path)).status_code == 200, path


async def test_anonymous_callers_get_nothing_but_sign_in(
    world: World, anonymous_client: httpx.AsyncClient
) -> None:
    for (method, _), case in CASES.items():
        verb, url, kwargs = case.build(world, "RAL")
        answer = await anonymous_client.request(verb, url, **kwargs)
        if url.startswith("/api/"):
            assert answer.status_code == 401, (method, url)
            assert answer.headers["www-authenticate"].startswith("Bearer")
        else:
            assert answer.status_code == 303, (method, url)
            assert answer.headers["location"].startswith("/signin?next=")
        assert "marker-" not in answer.text


def leaked(role: str, text: str) -> list[str]:
    """Return the other tenants' markers found in ``text`` (nothing for national roles)."""
    if role in NATIONAL:
        return []
    hidden = [o for o in ORG_MARK if o not in VISIBLE[role]]
    marks = [m for o in hidden for m in (*ORG_MARK[o], ORG_NAMES[o])]
    return [m for m in marks if m in text]


@pytest.mark.parametrize("role", sorted(EVERYONE))
async def test_no_route_crosses_tenants(sqlite_world: World, role: str) -> None:
    world = sqlite_world
    own, other = TARGETS.get(role, ("RAL", "RJ1"))
    async with world.client(role) as shared:
        for (method, path), case in CASES.items():
            for target in (own, other):
                verb, url, kwargs = case.build(world, target)
                if case.fresh_session:
                    async with world.client(role, fresh=True) as client:
                        answer = await client.request(verb, url, **kwargs)
                else:
                    answer = await shared.request(verb, url, **kwargs)
                check(role, method, path, case, target, other, answer)


def check(
    role: str, method: str, path: str, case: Case, target: str, other: str, answer: httpx.Response
) -> None:
    """Assert what ``role`` must get from ``case`` at ``target``, and that nothing leaked."""
    where = f"{role} {method} {path} at {target}"
    if case.by_org and role not in NATIONAL and target == other:
        # Another tenant's object is not found, whatever the caller's role.
        assert answer.status_code == 404, where
        assert "marker-" not in answer.text, where
    elif role not in case.allowed:
        assert answer.status_code == 403, where
    else:
        assert answer.status_code == case.ok, f"{where}: {answer.text[:300]}"
    assert not leaked(role, answer.text), f"{where} shows {leaked(role, answer.text)}"


@pytest.mark.parametrize("role", ["lead", "viewer", "multi", "token"])
async def test_members_lists_hold_only_their_organisations(world: World, role: str) -> None:
    async with world.client(role) as client:
        organisations = (await client.get("/api/v1/organisations")).json()
        alerts = (await client.get("/api/v1/alerts")).json()
        filtered = (await client.get("/api/v1/alerts", params={"org": "A81001"})).json()
    assert {o["code"] for o in organisations["items"]} == VISIBLE[role]
    assert organisations["total"] == len(VISIBLE[role])
    assert {a["org"] for a in alerts["items"]} == VISIBLE[role]
    # Asking for another tenant by name gives nothing, not its alerts.
    assert filtered["total"] == 0 or "A81001" in VISIBLE[role]


async def test_national_roles_see_every_organisation(world: World) -> None:
    for role in sorted(NATIONAL):
        async with world.client(role) as client:
            alerts = (await client.get("/api/v1/alerts")).json()
            page = (await client.get("/orgs/RJ1")).text
        assert {a["org"] for a in alerts["items"]} == set(ORG_MARK), role
        assert "St Thomas" in page, role


async def test_a_missing_id_and_another_tenants_id_answer_alike(world: World) -> None:
    async with world.client("lead") as client:
        theirs = await client.get(f"/api/v1/alerts/{world.alert_ids['RJ1']}")
        absent = await client.get("/api/v1/alerts/999999")
        their_org = await client.get("/api/v1/organisations/RJ1")
        no_org = await client.get("/api/v1/organisations/ZZZ9")
    assert theirs.status_code == absent.status_code == 404
    assert theirs.json()["detail"].replace(str(world.alert_ids["RJ1"]), "N") == absent.json()[
        "detail"
    ].replace("999999", "N")
    assert their_org.status_code == no_org.status_code == 404


async def test_a_member_writes_only_where_its_role_allows(world: World) -> None:
    async with world.client("multi") as multi:  # viewer at RAL, lead at RJ1
        at_lead = await multi.post(
            "/api/v1/organisations/RJ1/networks", json={"cidr": "10.98.0.0/24"}
        )
        at_viewer = await multi.post(
            "/api/v1/organisations/RAL/networks", json={"cidr": "10.98.1.0/24"}
        )
        elsewhere = await multi.post(
            "/api/v1/organisations/A81001/hosts", json={"hostname": "x.example"}
        )
    assert (at_lead.status_code, at_viewer.status_code, elsewhere.status_code) == (201, 403, 404)
    async with world.client("lead") as lead:
        # RAL's network is taken by RJ1 now: the lead is told so, but not by whom.
        taken = await lead.post("/api/v1/organisations/RAL/networks", json={"cidr": "10.98.0.0/24"})
    assert taken.status_code == 409
    assert "another organisation" in taken.json()["detail"]
    assert "RJ1" not in taken.text
    with world.store.session() as session:
        events, _ = audit.list_events(session, action="organisation.network_add")
    assert [(e.actor, e.org) for e in events] == [("user:multi", "RJ1")]


@pytest.mark.parametrize("role", ["lead", "viewer", "multi"])
async def test_members_search_only_their_organisations_events(world: World, role: str) -> None:
    async with world.client(role) as client:
        found = (await client.get("/api/v1/events")).json()
        page = (await client.get("/events")).text
        other = TARGETS[role][1]
        asked = await client.get("/api/v1/events", params={"address": ORG_MARK[other][1]})
    assert {e["org"] for e in found["items"]} == VISIBLE[role]
    assert len(found["items"]) == 2 * len(VISIBLE[role])
    for org in VISIBLE[role]:
        assert ORG_MARK[org][0] in page
    assert not leaked(role, page)
    # Another tenant's address matches its events, and still none is found.
    assert asked.status_code == 200
    assert asked.json()["items"] == []


async def test_national_roles_search_every_organisations_events(world: World) -> None:
    for role in sorted(NATIONAL):
        async with world.client(role) as client:
            found = (await client.get("/api/v1/events")).json()
        assert {e["org"] for e in found["items"]} == set(ORG_MARK), role
    async with world.client("analyst") as client:
        hunted = (await client.post("/api/v1/hunts", json={"sql": HUNT_SQL})).json()
    assert {r["org"] for r in hunted["rows"]} == set(ORG_MARK)
