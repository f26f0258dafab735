"""The tenancy matrix's rows for the scan routes (API and console), built on its ``World``.

``scan_routes`` is handed the matrix's ``Case`` type. Each organisation gets
findings folded as a scan would fold them (no packet sent); a route that changes
a finding or an exception gets a fresh one, so every allowed call can succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from bastion import scan
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.core.types import Severity

READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi"})
WRITERS = frozenset({"admin", "analyst", "lead", "multi"})
DECIDERS = frozenset({"admin", "analyst"})  # a member only requests an exception
API = "/api/v1/scan"
ACTOR = Actor.cli("matrix")


def fresh_finding(w: Any, org: str) -> int:
    """Fold one open finding of its own at ``org`` and return its id."""
    n = next(w.counter)
    host = f"host{n}.{org.lower()}.example"
    observation = scan.Observation(
        "ports", f"exposed:rdp-{n}", "RDP open", Severity.HIGH, 3389,
        scan.Evidence("X.224", "0300"), "exposed_service", {"service": "RDP", "why": "-"},
    )  # fmt: skip
    with w.store.session() as session:
        scan.record_outcome(
            session,
            scan.HostOutcome(scan.Target(org, host, "203.0.113.9", host), [observation]),
            actor=ACTOR,
            now=datetime.now(UTC),
        )
        found, _ = scan.list_findings(session, Scope.everything(), org=org, check="ports")
    return next(f.id for f in found if f.detail == f"exposed:rdp-{n}")


def fresh_request(w: Any, org: str) -> int:
    """Record a member's request for an exception at ``org`` and return its id."""
    with w.store.session() as session:
        return scan.add_exception(
            session, org, f"host{next(w.counter)}.example", None, expires_on=date(2099, 1, 1),
            reason="matrix", actor=ACTOR, approve=False,
        ).id  # fmt: skip


def exception_body(w: Any, org: str) -> dict[str, Any]:
    host = f"h{next(w.counter)}.example"
    return {"org": org, "host": host, "check": "ports", "expires_on": "2099-01-01", "reason": "x"}


def scan_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every scan route: ``make`` is the matrix's ``Case``."""

    def get(path: str) -> Callable[[Any, str], tuple[str, str, dict[str, Any]]]:
        return lambda _w, _o: ("GET", path, {})

    def by_org(build: Callable[..., Any], allowed: frozenset[str], ok: int = 200) -> Any:
        return make(build, allowed, ok=ok, by_org=True)

    return {
        ("GET", f"{API}/findings"): make(get(f"{API}/findings"), READERS),
        ("GET", f"{API}/exceptions"): make(get(f"{API}/exceptions"), READERS),
        ("GET", f"{API}/national"): make(get(f"{API}/national"), READERS),
        ("GET", f"{API}/findings/{{finding_id}}"): by_org(
            lambda w, org: ("GET", f"{API}/findings/{fresh_finding(w, org)}", {}), READERS
        ),
        ("POST", f"{API}/findings/{{finding_id}}/rescan"): by_org(
            lambda w, org: ("POST", f"{API}/findings/{fresh_finding(w, org)}/rescan", {}), WRITERS
        ),
        ("GET", f"{API}/report/{{org}}"): by_org(
            lambda _w, org: ("GET", f"{API}/report/{org}", {}), READERS
        ),
        ("POST", f"{API}/exceptions"): by_org(
            lambda w, org: (
                "POST",
                f"{API}/exceptions",
                {
                    "json": {
                        "org": org,
                        "host": f"h{next(w.counter)}.example",
                        "check": "ports",
                        "expires_on": "2099-01-01",
                        "reason": "supplier replacing it",
                    }
                },
            ),
            WRITERS,
            201,
        ),
        ("POST", f"{API}/exceptions/{{exception_id}}/decision"): by_org(
            lambda w, org: (
                "POST",
                f"{API}/exceptions/{fresh_request(w, org)}/decision",
                {"json": {"approve": True}},
            ),
            DECIDERS,
        ),
        # The console's pages and forms.
        ("GET", "/scan"): make(get("/scan"), READERS),
        ("GET", "/scan/national"): make(get("/scan/national"), READERS),
        ("GET", "/scan/findings/{finding_id}"): by_org(
            lambda w, org: ("GET", f"/scan/findings/{fresh_finding(w, org)}", {}), READERS
        ),
        ("POST", "/scan/findings/{finding_id}/rescan"): by_org(
            lambda w, org: ("POST", f"/scan/findings/{fresh_finding(w, org)}/rescan", {"data": {}}),
            WRITERS,
            303,
        ),
    }
