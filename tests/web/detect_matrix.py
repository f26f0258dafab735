"""The tenancy matrix's rows for the detection rules' routes (API and console).

Every signed-in person reads the rules; tuning (on/off, and a built-in check's thresholds)
is per organisation, so another tenant's tuning is not found. ``RULE_ID`` is the demo's Log4Shell rule, which the matrix's world installs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.matrix_rows import get

RULE_ID = "451b3c28-3fed-4081-aef7-5230e65f58a7"
READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi"})
RULE_WRITERS = frozenset({"admin", "analyst", "lead", "multi"})


def detect_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every rules route: ``make`` is the matrix's ``Case``."""
    return {
        ("GET", "/api/v1/rules"): make(get("/api/v1/rules"), READERS),
        ("GET", "/api/v1/rules/{rule_id}"): make(get(f"/api/v1/rules/{RULE_ID}"), READERS),
        ("PUT", "/api/v1/rules/{rule_id}/tuning"): make(
            lambda _w, org: (
                "PUT",
                f"/api/v1/rules/{RULE_ID}/tuning",
                {"json": {"enabled": False, "org": org}},
            ),
            RULE_WRITERS,
            by_org=True,
        ),
        ("PUT", "/api/v1/rules/{rule_id}/thresholds"): make(
            lambda _w, org: (
                "PUT",
                "/api/v1/rules/builtin:port-scan/thresholds",
                {"json": {"name": "ports", "value": 20, "org": org}},
            ),
            RULE_WRITERS,
            by_org=True,
        ),
        ("GET", "/rules"): make(get("/rules"), READERS),
        ("GET", "/rules/{rule_id}"): make(get(f"/rules/{RULE_ID}"), READERS),
        ("POST", "/rules/{rule_id}/tuning"): make(
            lambda _w, org: (
                "POST",
                f"/rules/{RULE_ID}/tuning",
                {"data": {"enabled": "off", "org": org}},
            ),
            RULE_WRITERS,
            ok=303,
            by_org=True,
        ),
        ("POST", "/rules/{rule_id}/thresholds"): make(
            lambda _w, org: (
                "POST",
                "/rules/builtin:port-scan/thresholds",
                {"data": {"name": "ports", "value": "20", "org": org}},
            ),
            RULE_WRITERS,
            ok=303,
            by_org=True,
        ),
    }
