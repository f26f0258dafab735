"""The tenancy matrix's rows for the audit trail's routes: national administrators and auditors only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.matrix_rows import get

AUDITORS = frozenset({"admin", "auditor"})


def audit_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every audit route: ``make`` is the matrix's ``Case``."""
    return {
        ("GET", "/api/v1/audit"): make(get("/api/v1/audit"), AUDITORS),
        ("GET", "/audit"): make(get("/audit"), AUDITORS),
        ("GET", "/audit/export.{fmt}"): make(get("/audit/export.csv"), AUDITORS),
    }
