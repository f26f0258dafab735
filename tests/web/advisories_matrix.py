"""The tenancy matrix's rows for the advisories routes: national alerts, inventories, exposures.

Each organisation has one published alert reaching it alone (``advisory``, made when first
asked for, also handed to ``cases_matrix``); a route that publishes or closes gets a new one.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from tests.web.matrix_rows import get

from bastion import advisories as adv
from bastion.advisories.importers import parse_osv_record
from bastion.advisories.vulns import ImportResult
from bastion.audit import Actor
from bastion.demo.national import lead_sbom
from bastion.demo.vulnerabilities import DEMO_OSV_RECORDS

ADV = "/api/v1/advisories"
ADV_AUTHORS = frozenset({"admin", "analyst"})
ADV_READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi"})
ADV_RESPONDERS = frozenset({"admin", "analyst", "lead", "multi"})
ADV_DRAFT = {"title": "Matrix draft", "severity": "low"}


def _no_smtp() -> adv.SmtpConfig:
    # A port nothing listens on: e-mail fails at once and is recorded as failed.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return adv.SmtpConfig(host="127.0.0.1", port=port)


def new_advisory(w: Any, org: str, *, publish: bool = True, applies: bool = False) -> str:
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


def advisory(w: Any, org: str) -> str:
    """Return the world's published alert reaching ``org`` (made when first asked for)."""
    if org not in w.advisories:
        w.advisories[org] = new_advisory(w, org)
    return str(w.advisories[org])


def advisory_action(w: Any, org: str) -> tuple[str, int]:
    """Return the world's alert for ``org`` and a remediation action of ``org``'s response."""
    ref = advisory(w, org)
    if org not in w.advisory_actions:
        with w.store.session() as session:
            [w.advisory_actions[org]] = adv.add_action(
                session, ref, [org], "patch", actor=Actor.cli("test")
            )
    return ref, int(w.advisory_actions[org])


def inventory(w: Any, org: str) -> str:
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


def sbom_upload(w: Any, org: str) -> dict[str, Any]:
    return {"files": {"file": (f"up{next(w.counter)}.cdx.json", lead_sbom(org))}}


def advisories_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every advisories route: ``make`` is the matrix's ``Case``."""
    return {
        ("GET", "/api/v1/advisories"): make(get(ADV), ADV_READERS),
        ("GET", "/api/v1/advisories/{ref}"): make(
            lambda w, org: ("GET", f"{ADV}/{advisory(w, org)}", {}), ADV_READERS, by_org=True
        ),
        ("POST", "/api/v1/advisories"): make(
            lambda _w, org: ("POST", ADV, {"json": {**ADV_DRAFT, "organisations": [org]}}),
            ADV_AUTHORS,
            ok=201,
        ),
        ("PUT", "/api/v1/advisories/{ref}"): make(
            lambda w, org: (
                "PUT",
                f"{ADV}/{new_advisory(w, org, publish=False)}",
                {"json": {**ADV_DRAFT, "summary": "edited"}},
            ),
            ADV_AUTHORS,
        ),
        ("GET", "/api/v1/advisories/{ref}/preview"): make(
            lambda w, org: ("GET", f"{ADV}/{advisory(w, org)}/preview", {}), ADV_AUTHORS
        ),
        ("POST", "/api/v1/advisories/{ref}/publish"): make(
            lambda w, org: ("POST", f"{ADV}/{new_advisory(w, org, publish=False)}/publish", {}),
            ADV_AUTHORS,
        ),
        ("POST", "/api/v1/advisories/{ref}/revisions"): make(
            lambda w, org: (
                "POST",
                f"{ADV}/{advisory(w, org)}/revisions",
                {"json": {**ADV_DRAFT, "note": "revised"}},
            ),
            ADV_AUTHORS,
        ),
        ("POST", "/api/v1/advisories/{ref}/responses/acknowledge"): make(
            lambda w, org: (
                "POST",
                f"{ADV}/{advisory(w, org)}/responses/acknowledge",
                {"json": {"organisations": [org]}},
            ),
            ADV_RESPONDERS,
            by_org=True,
        ),
        ("POST", "/api/v1/advisories/{ref}/responses/applicability"): make(
            lambda w, org: (
                "POST",
                f"{ADV}/{advisory(w, org)}/responses/applicability",
                {"json": {"organisations": [org], "applicability": "applicable"}},
            ),
            ADV_RESPONDERS,
            by_org=True,
        ),
        ("POST", "/api/v1/advisories/{ref}/responses/actions"): make(
            lambda w, org: (
                "POST",
                f"{ADV}/{advisory(w, org)}/responses/actions",
                {"json": {"organisations": [org], "description": "upgrade"}},
            ),
            ADV_RESPONDERS,
            ok=201,
            by_org=True,
        ),
        ("POST", "/api/v1/advisories/{ref}/actions/{action_id}/updates"): make(
            lambda w, org: (
                "POST",
                "{}/{}/actions/{}/updates".format(ADV, *advisory_action(w, org)),
                {"json": {"note": "half done", "status": "in_progress"}},
            ),
            ADV_RESPONDERS,
            by_org=True,
        ),
        ("POST", "/api/v1/advisories/{ref}/responses/close"): make(
            lambda w, org: (
                "POST",
                f"{ADV}/{new_advisory(w, org, applies=True)}/responses/close",
                {"json": {"organisations": [org]}},
            ),
            ADV_RESPONDERS,
            by_org=True,
        ),
        ("POST", "/advisories"): make(
            lambda _w, org: ("POST", "/advisories", {"data": {**ADV_DRAFT, "organisations": org}}),
            ADV_AUTHORS,
            ok=303,
        ),
        ("GET", "/api/v1/inventories"): make(get("/api/v1/inventories"), ADV_READERS),
        ("GET", "/api/v1/inventories/{code}/{name}"): make(
            lambda w, org: ("GET", f"/api/v1/inventories/{org}/{inventory(w, org)}", {}),
            ADV_READERS,
            by_org=True,
        ),
        ("POST", "/api/v1/inventories/{code}"): make(
            lambda w, org: ("POST", f"/api/v1/inventories/{org}", sbom_upload(w, org)),
            ADV_RESPONDERS,
            ok=201,
            by_org=True,
        ),
        ("GET", "/api/v1/exposures"): make(get("/api/v1/exposures"), ADV_READERS),
        ("GET", "/api/v1/exposures/{vulnerability}"): make(
            lambda w, org: (inventory(w, org) and "GET", "/api/v1/exposures/CVE-2021-44228", {}),
            ADV_READERS,
        ),
        ("POST", "/orgs/{code}/inventories"): make(
            lambda w, org: ("POST", f"/orgs/{org}/inventories", sbom_upload(w, org)),
            ADV_RESPONDERS,
            ok=303,
            by_org=True,
        ),
        ("GET", "/exposures"): make(
            lambda w, org: (inventory(w, org) and "GET", "/exposures", {}), ADV_READERS
        ),
        ("GET", "/advisories"): make(get("/advisories"), ADV_READERS),
        ("GET", "/advisories/{ref}"): make(
            lambda w, org: ("GET", f"/advisories/{advisory(w, org)}", {}), ADV_READERS, by_org=True
        ),
        ("POST", "/advisories/{ref}/publish"): make(
            lambda w, org: (
                "POST",
                f"/advisories/{new_advisory(w, org, publish=False)}/publish",
                {},
            ),
            ADV_AUTHORS,
            ok=303,
        ),
        ("POST", "/advisories/{ref}/respond"): make(
            lambda w, org: (
                "POST",
                f"/advisories/{advisory(w, org)}/respond",
                {"data": {"step": "acknowledge", "organisations": org}},
            ),
            ADV_RESPONDERS,
            ok=303,
            by_org=True,
        ),
    }
