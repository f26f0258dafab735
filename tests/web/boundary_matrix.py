"""The tenancy matrix's rows for the boundary's events and hunts routes (API and console).

Members search their own organisations' archive; hunts (free SQL over every
organisation's events) are national.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.matrix_rows import get

from bastion.audit import Actor
from bastion.boundary.hunts import save_hunt

SEARCHERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi"})
HUNTERS = frozenset({"admin", "analyst"})  # free SQL over every organisation's events
HUNT_SQL = 'SELECT org, "event.original" FROM events ORDER BY 1, 2'


def shared_hunt(w: Any) -> int:
    """Save a shared hunt (any national hunter may delete it); return its id."""
    with w.store.session() as session:
        return save_hunt(session, Actor.cli("test"), "matrix", HUNT_SQL, shared=True).id


def boundary_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every events and hunts route: ``make`` is the matrix's ``Case``."""
    return {
        # Events: members search their own organisations' archive; hunts (free SQL) are national.
        ("GET", "/api/v1/events"): make(
            lambda _w, org: ("GET", f"/api/v1/events?org={org}", {}), SEARCHERS, by_org=True
        ),
        ("GET", "/events"): make(
            lambda _w, org: ("GET", f"/events?org={org}", {}), SEARCHERS, by_org=True
        ),
        ("POST", "/api/v1/hunts"): make(
            lambda _w, _o: ("POST", "/api/v1/hunts", {"json": {"sql": HUNT_SQL}}), HUNTERS
        ),
        ("POST", "/api/v1/hunts/export"): make(
            lambda _w, _o: ("POST", "/api/v1/hunts/export", {"json": {"sql": HUNT_SQL}}), HUNTERS
        ),
        ("GET", "/api/v1/hunts/columns"): make(get("/api/v1/hunts/columns"), HUNTERS),
        ("GET", "/api/v1/hunts/saved"): make(get("/api/v1/hunts/saved"), HUNTERS),
        ("POST", "/api/v1/hunts/saved"): make(
            lambda _w, _o: (
                "POST",
                "/api/v1/hunts/saved",
                {"json": {"name": "m", "sql": HUNT_SQL}},
            ),
            HUNTERS,
            ok=201,
        ),
        ("DELETE", "/api/v1/hunts/saved/{hunt_id}"): make(
            lambda w, _o: ("DELETE", f"/api/v1/hunts/saved/{shared_hunt(w)}", {}), HUNTERS, ok=204
        ),
        ("GET", "/hunt"): make(get("/hunt"), HUNTERS),
        ("POST", "/hunt"): make(
            lambda _w, _o: ("POST", "/hunt", {"data": {"sql": HUNT_SQL}}), HUNTERS
        ),
        ("POST", "/hunt/download"): make(
            lambda _w, _o: ("POST", "/hunt/download", {"data": {"sql": HUNT_SQL, "format": "csv"}}),
            HUNTERS,
        ),
        ("POST", "/hunt/saved"): make(
            lambda _w, _o: ("POST", "/hunt/saved", {"data": {"name": "m", "sql": HUNT_SQL}}),
            HUNTERS,
            ok=303,
        ),
        ("POST", "/hunt/saved/{hunt_id}/delete"): make(
            lambda w, _o: ("POST", f"/hunt/saved/{shared_hunt(w)}/delete", {}), HUNTERS, ok=303
        ),
    }
