"""The tenancy matrix's rows for the audit trail's routes: national administrators and auditors only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Build = Callable[[Any, str], tuple[str, str, dict[str, Any]]]

AUDITORS = frozenset({"admin", "auditor"})


def get(path: str) -> Build:
    return lambda _w, _o: ("GET", path, {})


def audit_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every audit route: ``make`` is the matrix's ``Case``."""
    return {
        ("GET", "/api/v1/audit"): make(get("/api/v1/audit"), AUDITORS),
        ("GET", "/audit"): make(get("/audit"), AUDITORS),
        ("GET", "/audit/export.{fmt}"): make(get("/audit/export.csv"), AUDITORS),
    }
