"""The tenancy matrix's rows for the organisations routes (API and console).

``orgs_routes`` is handed the matrix's ``Case`` type as ``make`` (see ``cases_matrix``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.matrix_rows import get

READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi", "token"})
EDITORS = frozenset({"admin", "lead", "multi"})  # a lead edits its own organisation
ADMIN = frozenset({"admin"})


def orgs_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every organisations route: ``make`` is the matrix's ``Case``."""
    return {
        ("GET", "/api/v1/organisations"): make(get("/api/v1/organisations"), READERS),
        ("GET", "/api/v1/organisations/{code}"): make(
            lambda _w, org: ("GET", f"/api/v1/organisations/{org}", {}), READERS, by_org=True
        ),
        ("POST", "/api/v1/organisations"): make(
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
            ADMIN,
            ok=201,
        ),
        ("POST", "/api/v1/organisations/{code}/networks"): make(
            lambda w, org: (
                "POST",
                f"/api/v1/organisations/{org}/networks",
                {"json": {"cidr": f"10.99.{next(w.counter)}.0/24"}},
            ),
            EDITORS,
            ok=201,
            by_org=True,
        ),
        ("POST", "/api/v1/organisations/{code}/hosts"): make(
            lambda w, org: (
                "POST",
                f"/api/v1/organisations/{org}/hosts",
                {"json": {"hostname": f"h{next(w.counter)}.{org.lower()}.example"}},
            ),
            EDITORS,
            ok=201,
            by_org=True,
        ),
        ("GET", "/orgs/{code}"): make(
            lambda _w, org: ("GET", f"/orgs/{org}", {}), READERS, by_org=True
        ),
    }
