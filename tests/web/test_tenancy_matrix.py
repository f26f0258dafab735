"""Every route of the app × every role × own and other organisation: nothing crosses tenants.

The routes come from ``app.routes``: a route added without a row in ``CASES``
fails ``test_every_route_is_in_the_matrix``, so new pages are covered by
construction. For each role, a list must hold none of another tenant's
objects, and another tenant's object ids answer 404 (not 403), exactly as ids
that do not exist.
"""

from __future__ import annotations

import itertools
import socket
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
from tests.web.assure_matrix import assure_routes
from tests.web.cases_matrix import case_routes
from tests.web.passwords_matrix import password_routes
from tests.web.scan_matrix import scan_routes
from tests.web.uptime_matrix import UPTIME_PUBLIC, uptime_routes

from bastion import advisories as adv
from bastion import audit, auth, intel, passwords
from bastion.advisories.importers import parse_osv_record
from bastion.advisories.vulns import ImportResult
from bastion.alerts import list_alerts, record_alerts
from bastion.audit import Actor
from bastion.boundary.archive import write_batch
from bastion.boundary.hunts import save_hunt
from bastion.demo.detection import install_demo_rules
from bastion.demo.national import lead_sbom
from bastion.demo.vulnerabilities import DEMO_OSV_RECORDS
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
PEOPLE_ONLY = EVERYONE - {"token"}
NATIONAL = frozenset({"admin", "analyst", "auditor"})
INTEL_WRITERS = frozenset({"admin", "analyst"})  # intel is national data: no member role holds it
# What each caller may see, and which organisation is "own" and "other" for it.
VISIBLE = {"lead": {"RAL"}, "viewer": {"RAL"}, "multi": {"RAL", "RJ1"}, "token": {"RAL"}}
TARGETS = {
    "lead": ("RAL", "RJ1"),
    "viewer": ("RAL", "RJ1"),
    "multi": ("RJ1", "A81001"),
    "token": ("RAL", "RJ1"),
}


# The demo's Log4Shell rule: each organisation has an alert of it, its host the org's marker IP.
RULE_ID = "451b3c28-3fed-4081-aef7-5230e65f58a7"
RULE_WRITERS = frozenset({"admin", "analyst", "lead", "multi"})


def rule_hit(org: str) -> dict[str, Any]:
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


def get(path: str) -> Callable[[World, str], Request]:
    return lambda _w, _org: ("GET", path, {})


def _no_smtp() -> adv.SmtpConfig:
    # A port nothing listens on: e-mail fails at once and is recorded as failed.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return adv.SmtpConfig(host="127.0.0.1", port=port)


def new_advisory(w: World, org: str, *, publish: bool = True, applies: bool = False) -> str:
    """Draft (and publish) a national alert reaching ``org`` alone; return its ref."""
    smtp = _no_smtp()
    w.app.state.advisories_smtp = smtp
    content = adv.AlertContent(title="Matrix advisory", severity=adv.AlertSeverity.LOW)
    with w.store.session() as session:
        ref = adv.draft_alert(session, content, author=Actor.cli("test"), organisations=(org,)).ref
        if publish:
            adv.publish(session, ref, actor=Actor.cli("test"), policy=adv.Policy(), smtp=smtp)
        if applies:
            adv.set_applicability(
                session, ref, [org], "under_investigation", actor=Actor.cli("test")
            )
    return ref


def advisory(w: World, org: str) -> str:
    """Return the world's published alert reaching ``org`` (made when first asked for)."""
    if org not in w.advisories:
        w.advisories[org] = new_advisory(w, org)
    return w.advisories[org]


def advisory_action(w: World, org: str) -> tuple[str, int]:
    """Return the world's alert for ``org`` and a remediation action of ``org``'s response."""
    ref = advisory(w, org)
    if org not in w.advisory_actions:
        with w.store.session() as session:
            [w.advisory_actions[org]] = adv.add_action(
                session, ref, [org], "patch", actor=Actor.cli("test")
            )
    return ref, w.advisory_actions[org]


def inventory(w: World, org: str) -> str:
    """Import (once) an SBOM with vulnerable Log4j for ``org``; return the inventory's name."""
    with w.store.session() as session:
        if not adv.list_vulnerabilities(session, limit=1):
            records = [parse_osv_record(doc) for doc in DEMO_OSV_RECORDS]
            adv.import_intel(
                session, ImportResult("osv", records=records), "t", actor=Actor.cli("t")
            )
        if not adv.list_inventories(session, org):
            adv.import_inventory(
                session, org, lead_sbom(org), "app.cdx.json", actor=Actor.cli("test")
            )
    return "app.cdx.json"


def sbom_upload(w: World, org: str) -> dict[str, Any]:
    return {"files": {"file": (f"up{next(w.counter)}.cdx.json", lead_sbom(org))}}


ADV = "/api/v1/advisories"
ADV_AUTHORS = frozenset({"admin", "analyst"})
ADV_READERS = EVERYONE - {"token"}
ADV_RESPONDERS = frozenset({"admin", "analyst", "lead", "multi"})
ADV_DRAFT = {"title": "Matrix draft", "severity": "low"}


def listed(w: World) -> str:
    """List a fresh indicator (for a case that expires one) and return its id."""
    found = intel.Indicator(intel.IndicatorType.DOMAIN, f"x{next(w.counter)}.bad.example", "matrix")
    with w.store.session() as session:
        intel.store_listings(session, [found], reason="matrix", actor=Actor.cli("test"))
    return found.id


TRIAGERS = frozenset({"admin", "analyst", "lead", "multi"})


def fresh_alerts(w: World, org: str, n: int = 1) -> list[int]:
    """Record ``n`` new alerts of ``org`` on one host and observable (one group); their ids."""
    tag = next(w.counter)
    frame = pl.DataFrame(
        [{**hit(org, 3), "key": f"fresh-{tag}-{i}", "observable": f"obs-{tag}"} for i in range(n)]
    )
    with w.store.session() as session:
        record_alerts(session, frame)
        found, _ = list_alerts(session, org=org)
    return sorted(a.id for a in found if a.key.startswith(f"fresh-{tag}-"))


def triage_case(action: str, body: dict[str, Any], *, n: int = 1, ok: int = 200) -> Case:
    return Case(
        lambda w, org: (
            "POST",
            f"/api/v1/alerts/{fresh_alerts(w, org, n)[-1]}/{action}",
            {"json": body},
        ),
        TRIAGERS,
        ok=ok,
        by_org=True,
    )


HUNTERS = frozenset({"admin", "analyst"})  # free SQL over every organisation's events
HUNT_SQL = 'SELECT org, "event.original" FROM events ORDER BY 1, 2'


def shared_hunt(w: World) -> int:
    """Save a shared hunt (any national hunter may delete it); return its id."""
    with w.store.session() as session:
        return save_hunt(session, Actor.cli("test"), "matrix", HUNT_SQL, shared=True).id


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


def password_call(
    verb: str, path: str, body: dict[str, Any] | None = None
) -> Callable[[World, str], Request]:
    """Call a passwords route at an organisation, over a tiny breached-password store."""

    def build(w: World, org: str) -> Request:
        folder = w.app.state.settings.passwords_dir
        if not (folder / "sha1").exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "breached.txt").write_text("password\n123456\n", encoding="utf-8")
            passwords.Builder(folder, [passwords.source(folder / "breached.txt")]).run()
        kwargs: dict[str, Any] = (
            {"params": {"org": org}} if body is None else {"json": {**body, "org": org}}
        )
        return verb, path, kwargs

    return build


PW = "/api/v1/passwords"
PW_READERS = EVERYONE - {"token"}
PW_WRITERS = frozenset(
    {"admin", "lead", "multi"}
)  # national administrators, and leads at their own

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
}
# Enforcement points' lists: a device token of the intel context, never a person's session.
PUBLIC |= UPTIME_PUBLIC  # status pages and push heartbeats
DEVICE_ONLY = {("GET", "/blocklists/{kind}.txt")}

CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/organisations"): Case(get("/api/v1/organisations"), EVERYONE),
    ("GET", "/api/v1/organisations/{code}"): Case(
        lambda _w, org: ("GET", f"/api/v1/organisations/{org}", {}), EVERYONE, by_org=True
    ),
    ("POST", "/api/v1/organisations"): Case(
        lambda w, org: (
            "POST",
            "/api/v1/organisations",
            {
                "json": {
                    "code": f"ZN{next(w.counter)}",
                    "name": "New",
                    "type": "trust",
                    "parent": org,
                }
            },
        ),
        frozenset({"admin"}),
        ok=201,
    ),
    ("POST", "/api/v1/organisations/{code}/networks"): Case(
        lambda w, org: (
            "POST",
            f"/api/v1/organisations/{org}/networks",
            {"json": {"cidr": f"10.99.{next(w.counter)}.0/24"}},
        ),
        frozenset({"admin", "lead", "multi"}),
        ok=201,
        by_org=True,
    ),
    ("POST", "/api/v1/organisations/{code}/hosts"): Case(
        lambda w, org: (
            "POST",
            f"/api/v1/organisations/{org}/hosts",
            {"json": {"hostname": f"h{next(w.counter)}.{org.lower()}.example"}},
        ),
        frozenset({"admin", "lead", "multi"}),
        ok=201,
        by_org=True,
    ),
    ("GET", "/api/v1/alerts"): Case(get("/api/v1/alerts"), EVERYONE),
    ("GET", "/api/v1/alerts/{alert_id}"): Case(
        lambda w, org: ("GET", f"/api/v1/alerts/{w.alert_ids[org]}", {}), EVERYONE, by_org=True
    ),
    ("POST", "/api/v1/alerts/{alert_id}/ack"): triage_case("ack", {"reason": "seen"}),
    ("POST", "/api/v1/alerts/{alert_id}/assign"): triage_case("assign", {"assignee": "soc"}),
    ("POST", "/api/v1/alerts/{alert_id}/close"): triage_case("close", {"resolution": "benign"}),
    ("POST", "/api/v1/alerts/{alert_id}/notes"): triage_case("notes", {"text": "hi"}, ok=201),
    ("POST", "/api/v1/alerts/{alert_id}/split"): triage_case("split", {}, n=2),
    ("POST", "/api/v1/alerts/bulk"): Case(
        lambda w, org: (
            "POST",
            "/api/v1/alerts/bulk",
            {"json": {"action": "ack", "ids": fresh_alerts(w, org), "reason": "bulk"}},
        ),
        TRIAGERS,
        by_org=True,
    ),
    ("GET", "/api/v1/alerts/{alert_id}/history"): Case(
        lambda w, org: ("GET", f"/api/v1/alerts/{w.alert_ids[org]}/history", {}),
        EVERYONE,
        by_org=True,
    ),
    ("GET", "/api/v1/alerts/groups/{group_id}"): Case(
        lambda w, org: ("GET", f"/api/v1/alerts/groups/{w.alert_ids[org]}", {}),
        EVERYONE,
        by_org=True,
    ),
    ("POST", "/alerts/{alert_id}/triage"): Case(
        lambda w, org: (
            "POST",
            f"/alerts/{fresh_alerts(w, org)[0]}/triage",
            {"data": {"action": "assign", "assignee": "soc", "reason": "mine"}},
        ),
        TRIAGERS,
        ok=303,
        by_org=True,
    ),
    ("POST", "/alerts/triage"): Case(
        lambda w, org: (
            "POST",
            "/alerts/triage",
            {"data": {"action": "ack", "ids": fresh_alerts(w, org), "reason": "bulk"}},
        ),
        TRIAGERS,
        ok=303,
        by_org=True,
    ),
    ("POST", "/api/v1/alerts/ingest"): Case(
        lambda w, org: (
            "POST",
            "/api/v1/alerts/ingest",
            {
                "json": {
                    "source": "siem",
                    "alerts": [{"id": f"m{next(w.counter)}", "title": "x", "time": T0.isoformat()}],
                }
            },
        ),
        frozenset({"admin", "analyst"}),
        ok=201,
    ),
    ("GET", "/api/v1/me"): Case(get("/api/v1/me"), EVERYONE),
    ("GET", "/api/v1/audit"): Case(get("/api/v1/audit"), frozenset({"admin", "auditor"})),
    ("GET", "/overview"): Case(get("/overview"), EVERYONE),
    ("GET", "/"): Case(get("/"), EVERYONE),
    ("GET", "/orgs/{code}"): Case(
        lambda _w, org: ("GET", f"/orgs/{org}", {}), EVERYONE, by_org=True
    ),
    ("GET", "/alerts"): Case(get("/alerts"), EVERYONE),
    ("GET", "/alerts/{alert_id}"): Case(
        lambda w, org: ("GET", f"/alerts/{w.alert_ids[org]}", {}), EVERYONE, by_org=True
    ),
    ("GET", "/api/v1/advisories"): Case(get(ADV), ADV_READERS),
    ("GET", "/api/v1/advisories/{ref}"): Case(
        lambda w, org: ("GET", f"{ADV}/{advisory(w, org)}", {}), ADV_READERS, by_org=True
    ),
    ("POST", "/api/v1/advisories"): Case(
        lambda _w, org: ("POST", ADV, {"json": {**ADV_DRAFT, "organisations": [org]}}),
        ADV_AUTHORS,
        ok=201,
    ),
    ("PUT", "/api/v1/advisories/{ref}"): Case(
        lambda w, org: (
            "PUT",
            f"{ADV}/{new_advisory(w, org, publish=False)}",
            {"json": {**ADV_DRAFT, "summary": "edited"}},
        ),
        ADV_AUTHORS,
    ),
    ("GET", "/api/v1/advisories/{ref}/preview"): Case(
        lambda w, org: ("GET", f"{ADV}/{advisory(w, org)}/preview", {}), ADV_AUTHORS
    ),
    ("POST", "/api/v1/advisories/{ref}/publish"): Case(
        lambda w, org: ("POST", f"{ADV}/{new_advisory(w, org, publish=False)}/publish", {}),
        ADV_AUTHORS,
    ),
    ("POST", "/api/v1/advisories/{ref}/revisions"): Case(
        lambda w, org: (
            "POST",
            f"{ADV}/{advisory(w, org)}/revisions",
            {"json": {**ADV_DRAFT, "note": "revised"}},
        ),
        ADV_AUTHORS,
    ),
    ("POST", "/api/v1/advisories/{ref}/responses/acknowledge"): Case(
        lambda w, org: (
            "POST",
            f"{ADV}/{advisory(w, org)}/responses/acknowledge",
            {"json": {"organisations": [org]}},
        ),
        ADV_RESPONDERS,
        by_org=True,
    ),
    ("POST", "/api/v1/advisories/{ref}/responses/applicability"): Case(
        lambda w, org: (
            "POST",
            f"{ADV}/{advisory(w, org)}/responses/applicability",
            {"json": {"organisations": [org], "applicability": "applicable"}},
        ),
        ADV_RESPONDERS,
        by_org=True,
    ),
    ("POST", "/api/v1/advisories/{ref}/responses/actions"): Case(
        lambda w, org: (
            "POST",
            f"{ADV}/{advisory(w, org)}/responses/actions",
            {"json": {"organisations": [org], "description": "upgrade"}},
        ),
        ADV_RESPONDERS,
        ok=201,
        by_org=True,
    ),
    ("POST", "/api/v1/advisories/{ref}/actions/{action_id}/updates"): Case(
        lambda w, org: (
            "POST",
            "{}/{}/actions/{}/updates".format(ADV, *advisory_action(w, org)),
            {"json": {"note": "half done", "status": "in_progress"}},
        ),
        ADV_RESPONDERS,
        by_org=True,
    ),
    ("POST", "/api/v1/advisories/{ref}/responses/close"): Case(
        lambda w, org: (
            "POST",
            f"{ADV}/{new_advisory(w, org, applies=True)}/responses/close",
            {"json": {"organisations": [org]}},
        ),
        ADV_RESPONDERS,
        by_org=True,
    ),
    ("POST", "/advisories"): Case(
        lambda _w, org: ("POST", "/advisories", {"data": {**ADV_DRAFT, "organisations": org}}),
        ADV_AUTHORS,
        ok=303,
    ),
    ("GET", "/api/v1/inventories"): Case(get("/api/v1/inventories"), ADV_READERS),
    ("GET", "/api/v1/inventories/{code}/{name}"): Case(
        lambda w, org: ("GET", f"/api/v1/inventories/{org}/{inventory(w, org)}", {}),
        ADV_READERS,
        by_org=True,
    ),
    ("POST", "/api/v1/inventories/{code}"): Case(
        lambda w, org: ("POST", f"/api/v1/inventories/{org}", sbom_upload(w, org)),
        ADV_RESPONDERS,
        ok=201,
        by_org=True,
    ),
    ("GET", "/api/v1/exposures"): Case(get("/api/v1/exposures"), ADV_READERS),
    ("GET", "/api/v1/exposures/{vulnerability}"): Case(
        lambda w, org: (inventory(w, org) and "GET", "/api/v1/exposures/CVE-2021-44228", {}),
        ADV_READERS,
    ),
    ("POST", "/orgs/{code}/inventories"): Case(
        lambda w, org: ("POST", f"/orgs/{org}/inventories", sbom_upload(w, org)),
        ADV_RESPONDERS,
        ok=303,
        by_org=True,
    ),
    ("GET", "/exposures"): Case(
        lambda w, org: (inventory(w, org) and "GET", "/exposures", {}), ADV_READERS
    ),
    ("GET", "/advisories"): Case(get("/advisories"), ADV_READERS),
    ("GET", "/advisories/{ref}"): Case(
        lambda w, org: ("GET", f"/advisories/{advisory(w, org)}", {}), ADV_READERS, by_org=True
    ),
    ("POST", "/advisories/{ref}/publish"): Case(
        lambda w, org: ("POST", f"/advisories/{new_advisory(w, org, publish=False)}/publish", {}),
        ADV_AUTHORS,
        ok=303,
    ),
    ("POST", "/advisories/{ref}/respond"): Case(
        lambda w, org: (
            "POST",
            f"/advisories/{advisory(w, org)}/respond",
            {"data": {"step": "acknowledge", "organisations": org}},
        ),
        ADV_RESPONDERS,
        ok=303,
        by_org=True,
    ),
    ("GET", "/api/v1/intel/indicators"): Case(get("/api/v1/intel/indicators"), NATIONAL),
    ("GET", "/api/v1/intel/indicators/{indicator_id:path}"): Case(
        get("/api/v1/intel/indicators/domain:matrix.bad.example"), NATIONAL
    ),
    ("POST", "/api/v1/intel/indicators"): Case(
        lambda w, _o: (
            "POST",
            "/api/v1/intel/indicators",
            {"json": {"type": "ipv4", "value": f"203.0.113.{next(w.counter) % 250}"}},
        ),
        INTEL_WRITERS,
        ok=201,
    ),
    ("POST", "/api/v1/intel/indicators/expire"): Case(
        lambda w, _o: (
            "POST",
            "/api/v1/intel/indicators/expire",
            {"json": {"id": listed(w), "reason": "matrix"}},
        ),
        INTEL_WRITERS,
    ),
    ("POST", "/api/v1/intel/import"): Case(
        lambda w, _o: (
            "POST",
            "/api/v1/intel/import",
            {"files": {"file": ("list.txt", f"y{next(w.counter)}.bad.example\n".encode())}},
        ),
        INTEL_WRITERS,
        ok=201,
    ),
    ("GET", "/api/v1/intel/feeds"): Case(get("/api/v1/intel/feeds"), NATIONAL),
    ("POST", f"{PW}/check"): Case(
        password_call("POST", f"{PW}/check", {"password": "a long new pass phrase"}),
        PW_READERS,
        by_org=True,
    ),
    ("POST", f"{PW}/check/range"): Case(
        password_call("POST", f"{PW}/check/range", {"prefix": "5BAA6"}), PW_READERS, by_org=True
    ),
    ("GET", f"{PW}/policy"): Case(password_call("GET", f"{PW}/policy"), PW_READERS, by_org=True),
    ("PUT", f"{PW}/policy"): Case(
        lambda w, org: ("PUT", f"{PW}/policy", {"params": {"org": org}, "json": {"scoring": True}}),
        PW_WRITERS,
        by_org=True,
    ),
    ("GET", f"{PW}/stats"): Case(get(f"{PW}/stats"), PW_READERS),
    ("GET", "/passwords"): Case(password_call("GET", "/passwords"), PW_READERS, by_org=True),
    ("POST", "/passwords/policy"): Case(
        lambda _w, org: (
            "POST",
            "/passwords/policy",
            {"data": {"org": org, "min_length": "16", "banned_terms": "theatre\nward"}},
        ),
        PW_WRITERS,
        ok=303,
        by_org=True,
    ),
    ("GET", "/api/v1/intel/feeds/{name}/pulls"): Case(
        get("/api/v1/intel/feeds/matrix-feed/pulls"), NATIONAL
    ),
    ("POST", "/api/v1/intel/feeds/{name}/pull"): Case(
        lambda _w, _o: ("POST", "/api/v1/intel/feeds/matrix-feed/pull", {}), INTEL_WRITERS
    ),
    ("GET", "/intel"): Case(get("/intel"), NATIONAL),
    ("GET", "/intel/indicators/{indicator_id:path}"): Case(
        get("/intel/indicators/domain:matrix.bad.example"), NATIONAL
    ),
    ("POST", "/intel/indicators"): Case(
        lambda w, _o: (
            "POST",
            "/intel/indicators",
            {"data": {"type": "domain", "value": f"z{next(w.counter)}.bad.example"}},
        ),
        INTEL_WRITERS,
        ok=303,
    ),
    ("POST", "/intel/expire"): Case(
        lambda w, _o: ("POST", "/intel/expire", {"data": {"id": listed(w), "reason": "matrix"}}),
        INTEL_WRITERS,
        ok=303,
    ),
    ("GET", "/intel/feeds"): Case(get("/intel/feeds"), NATIONAL),
    ("GET", "/intel/feeds/{name}"): Case(get("/intel/feeds/matrix-feed"), NATIONAL),
    ("GET", "/api/v1/rules"): Case(get("/api/v1/rules"), PEOPLE_ONLY),
    ("GET", "/api/v1/rules/{rule_id}"): Case(get(f"/api/v1/rules/{RULE_ID}"), PEOPLE_ONLY),
    ("PUT", "/api/v1/rules/{rule_id}/tuning"): Case(
        lambda _w, org: (
            "PUT",
            f"/api/v1/rules/{RULE_ID}/tuning",
            {"json": {"enabled": False, "org": org}},
        ),
        RULE_WRITERS,
        by_org=True,
    ),
    ("GET", "/rules"): Case(get("/rules"), PEOPLE_ONLY),
    ("GET", "/rules/{rule_id}"): Case(get(f"/rules/{RULE_ID}"), PEOPLE_ONLY),
    ("POST", "/rules/{rule_id}/tuning"): Case(
        lambda _w, org: (
            "POST",
            f"/rules/{RULE_ID}/tuning",
            {"data": {"enabled": "off", "org": org}},
        ),
        RULE_WRITERS,
        ok=303,
        by_org=True,
    ),
    ("GET", "/users"): Case(get("/users"), frozenset({"admin", "auditor"})),
    ("POST", "/users"): Case(
        lambda w, org: (
            "POST",
            "/users",
            {"data": {"username": f"new{next(w.counter)}", "role": "org_viewer", "org": org}},
        ),
        frozenset({"admin"}),
        ok=201,
    ),
    ("GET", "/users/{username}"): Case(get("/users/lead"), frozenset({"admin", "auditor"})),
    ("POST", "/users/{username}/role"): Case(
        lambda w, org: ("POST", f"/users/{w.new_user(org)}/role", {"data": {"role": "auditor"}}),
        frozenset({"admin"}),  # 200: the page shows the new second factor a national role needs
    ),
    ("POST", "/users/{username}/memberships"): Case(
        lambda w, org: (
            "POST",
            f"/users/{w.new_user(org)}/memberships",
            {"data": {"org": org, "role": "org_lead"}},
        ),
        frozenset({"admin"}),
        ok=303,
    ),
    ("POST", "/users/{username}/memberships/revoke"): Case(
        lambda w, org: (
            "POST",
            f"/users/{w.new_user(org)}/memberships/revoke",
            {"data": {"org": org}},
        ),
        frozenset({"admin"}),
        ok=303,
    ),
    ("POST", "/users/{username}/status"): Case(
        lambda w, org: (
            "POST",
            f"/users/{w.new_user(org)}/status",
            {"data": {"status": "disabled", "confirm": "yes"}},
        ),
        frozenset({"admin"}),
        ok=303,
    ),
    ("POST", "/users/{username}/reset-totp"): Case(
        lambda w, org: (
            "POST",
            f"/users/{w.new_user(org)}/reset-totp",
            {"data": {"confirm": "yes"}},
        ),
        frozenset({"admin"}),
    ),
    ("POST", "/users/{username}/sign-out"): Case(
        lambda w, org: ("POST", f"/users/{w.new_user(org)}/sign-out", {}),
        frozenset({"admin"}),
        ok=303,
    ),
    ("GET", "/tokens"): Case(get("/tokens"), frozenset({"admin"})),
    ("POST", "/tokens"): Case(
        lambda _w, org: (
            "POST",
            "/tokens",
            {"data": {"name": "matrix", "org": org, "scopes": ["alerts:read"]}},
        ),
        frozenset({"admin"}),
        ok=201,
    ),
    ("POST", "/tokens/{token_id}/revoke"): Case(
        lambda w, org: ("POST", f"/tokens/{w.new_token(org)}/revoke", {}),
        frozenset({"admin"}),
        ok=303,
    ),
    ("GET", "/audit"): Case(get("/audit"), frozenset({"admin", "auditor"})),
    ("GET", "/audit/export.{fmt}"): Case(get("/audit/export.csv"), frozenset({"admin", "auditor"})),
    ("GET", "/docs"): Case(get("/docs"), EVERYONE),
    # Events: members search their own organisations' archive; hunts (free SQL) are national.
    ("GET", "/api/v1/events"): Case(
        lambda _w, org: ("GET", f"/api/v1/events?org={org}", {}), PEOPLE_ONLY, by_org=True
    ),
    ("GET", "/events"): Case(
        lambda _w, org: ("GET", f"/events?org={org}", {}), PEOPLE_ONLY, by_org=True
    ),
    ("POST", "/api/v1/hunts"): Case(
        lambda _w, _o: ("POST", "/api/v1/hunts", {"json": {"sql": HUNT_SQL}}), HUNTERS
    ),
    ("POST", "/api/v1/hunts/export"): Case(
        lambda _w, _o: ("POST", "/api/v1/hunts/export", {"json": {"sql": HUNT_SQL}}), HUNTERS
    ),
    ("GET", "/api/v1/hunts/columns"): Case(get("/api/v1/hunts/columns"), HUNTERS),
    ("GET", "/api/v1/hunts/saved"): Case(get("/api/v1/hunts/saved"), HUNTERS),
    ("POST", "/api/v1/hunts/saved"): Case(
        lambda _w, _o: ("POST", "/api/v1/hunts/saved", {"json": {"name": "m", "sql": HUNT_SQL}}),
        HUNTERS,
        ok=201,
    ),
    ("DELETE", "/api/v1/hunts/saved/{hunt_id}"): Case(
        lambda w, _o: ("DELETE", f"/api/v1/hunts/saved/{shared_hunt(w)}", {}), HUNTERS, ok=204
    ),
    ("GET", "/hunt"): Case(get("/hunt"), HUNTERS),
    ("POST", "/hunt"): Case(lambda _w, _o: ("POST", "/hunt", {"data": {"sql": HUNT_SQL}}), HUNTERS),
    ("POST", "/hunt/download"): Case(
        lambda _w, _o: ("POST", "/hunt/download", {"data": {"sql": HUNT_SQL, "format": "csv"}}),
        HUNTERS,
    ),
    ("POST", "/hunt/saved"): Case(
        lambda _w, _o: ("POST", "/hunt/saved", {"data": {"name": "m", "sql": HUNT_SQL}}),
        HUNTERS,
        ok=303,
    ),
    ("POST", "/hunt/saved/{hunt_id}/delete"): Case(
        lambda w, _o: ("POST", f"/hunt/saved/{shared_hunt(w)}/delete", {}), HUNTERS, ok=303
    ),
    ("POST", "/signout"): Case(
        lambda _w, _o: ("POST", "/signout", {}), PEOPLE_ONLY, ok=303, fresh_session=True
    ),
    ("POST", "/signout/everywhere"): Case(
        lambda _w, _o: ("POST", "/signout/everywhere", {}),
        PEOPLE_ONLY,
        ok=303,
        fresh_session=True,
    ),
}

# The cases' rows first: the sign-out rows last end every session of their person.
CASES = {
    **case_routes(Case, hit, advisory),
    **password_routes(Case),
    **uptime_routes(Case),
    **assure_routes(Case),
    **scan_routes(Case),
    **CASES,
}


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
