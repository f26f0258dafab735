"""The tenancy matrix's rows for the behaviour routes (API and console), built on its ``World``.

``behaviour_routes`` is handed the matrix's ``Case`` type. A route that reads or
changes a result gets a fresh one at the organisation, stored as a hunt stores it;
a route that removes an allow-list entry gets a fresh entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from bastion import behaviour
from bastion.audit import Actor
from bastion.behaviour.models import BehaviourResultRow
from bastion.core.scope import Scope

READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi"})
WRITERS = frozenset({"admin", "analyst", "lead", "multi"})
API = "/api/v1/behaviour"
ACTOR = Actor.cli("matrix")
EXPIRES = "2099-01-01"


def fresh_result(w: Any, org: str) -> int:
    """Store one open beacon result of its own at ``org`` and return its id."""
    n = next(w.counter)
    seen = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with w.store.session() as session:
        row = BehaviourResultRow(
            org_code=org, day=date(2026, 1, 5), analytic="beacon", host=f"10.9.{n % 250}.1",
            dest=f"203.0.113.{n % 250}", remote=f"203.0.113.{n % 250}", score=0.9,
            parts={"coverage": 1.0}, connections=50, orgs=1, first_seen=seen, last_seen=seen,
            status="open", evidence={"intervals": {"edges": [0, 1], "counts": [3]}},
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def fresh_entry(w: Any, org: str) -> int:
    """Add one allow-list entry of ``org`` and return its id."""
    with w.store.session() as session:
        return behaviour.add_allowed(
            session, Scope.everything(), org=org, kind="domain",
            value=f"d{next(w.counter)}.example", reason="matrix", expires_on=date(2099, 1, 1),
            actor=ACTOR,
        ).id  # fmt: skip


def allow_body(w: Any, org: str) -> dict[str, Any]:
    value = f"a{next(w.counter)}.example"
    return {"org": org, "kind": "domain", "value": value, "reason": "x", "expires_on": EXPIRES}


def behaviour_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every behaviour route: ``make`` is the matrix's ``Case``."""

    def get(path: str) -> Callable[[Any, str], tuple[str, str, dict[str, Any]]]:
        return lambda _w, _o: ("GET", path, {})

    def by_org(build: Callable[..., Any], allowed: frozenset[str], ok: int = 200) -> Any:
        return make(build, allowed, ok=ok, by_org=True)

    benign = {"reason": "our backup agent", "expires_on": EXPIRES}
    return {
        ("GET", f"{API}/results"): make(get(f"{API}/results"), READERS),
        ("GET", f"{API}/allow"): make(get(f"{API}/allow"), READERS),
        ("GET", f"{API}/results/{{result_id}}"): by_org(
            lambda w, org: ("GET", f"{API}/results/{fresh_result(w, org)}", {}), READERS
        ),
        ("POST", f"{API}/results/{{result_id}}/benign"): by_org(
            lambda w, org: (
                "POST",
                f"{API}/results/{fresh_result(w, org)}/benign",
                {"json": benign},
            ),
            WRITERS,
        ),
        ("POST", f"{API}/allow"): by_org(
            lambda w, org: ("POST", f"{API}/allow", {"json": allow_body(w, org)}), WRITERS, 201
        ),
        ("DELETE", f"{API}/allow/{{entry_id}}"): by_org(
            lambda w, org: ("DELETE", f"{API}/allow/{fresh_entry(w, org)}", {}), WRITERS
        ),
        # The console's pages and forms.
        ("GET", "/behaviour"): make(get("/behaviour"), READERS),
        ("GET", "/behaviour/results/{result_id}"): by_org(
            lambda w, org: ("GET", f"/behaviour/results/{fresh_result(w, org)}", {}), READERS
        ),
        ("POST", "/behaviour/results/{result_id}/benign"): by_org(
            lambda w, org: (
                "POST",
                f"/behaviour/results/{fresh_result(w, org)}/benign",
                {"data": benign},
            ),
            WRITERS,
            303,
        ),
        ("POST", "/behaviour/allow"): by_org(
            lambda w, org: ("POST", "/behaviour/allow", {"data": allow_body(w, org)}), WRITERS, 303
        ),
        ("POST", "/behaviour/allow/{entry_id}/delete"): by_org(
            lambda w, org: ("POST", f"/behaviour/allow/{fresh_entry(w, org)}/delete", {"data": {}}),
            WRITERS,
            303,
        ),
    }
