"""The tenancy matrix's rows for the intel routes: national data, read by national roles.

The world holds the indicator ``matrix.bad.example`` and the feed ``matrix-feed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.matrix_rows import get

from bastion import intel
from bastion.audit import Actor

NATIONAL = frozenset({"admin", "analyst", "auditor"})
INTEL_WRITERS = frozenset({"admin", "analyst"})  # intel is national data: no member role holds it


def listed(w: Any) -> str:
    """List a fresh indicator (for a case that expires one) and return its id."""
    found = intel.Indicator(intel.IndicatorType.DOMAIN, f"x{next(w.counter)}.bad.example", "matrix")
    with w.store.session() as session:
        intel.store_listings(session, [found], reason="matrix", actor=Actor.cli("test"))
    return found.id


def intel_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every intel route: ``make`` is the matrix's ``Case``."""
    return {
        ("GET", "/api/v1/intel/indicators"): make(get("/api/v1/intel/indicators"), NATIONAL),
        ("GET", "/api/v1/intel/indicators/{indicator_id:path}"): make(
            get("/api/v1/intel/indicators/domain:matrix.bad.example"), NATIONAL
        ),
        ("POST", "/api/v1/intel/indicators"): make(
            lambda w, _o: (
                "POST",
                "/api/v1/intel/indicators",
                {"json": {"type": "ipv4", "value": f"203.0.113.{next(w.counter) % 250}"}},
            ),
            INTEL_WRITERS,
            ok=201,
        ),
        ("POST", "/api/v1/intel/indicators/expire"): make(
            lambda w, _o: (
                "POST",
                "/api/v1/intel/indicators/expire",
                {"json": {"id": listed(w), "reason": "matrix"}},
            ),
            INTEL_WRITERS,
        ),
        ("POST", "/api/v1/intel/import"): make(
            lambda w, _o: (
                "POST",
                "/api/v1/intel/import",
                {"files": {"file": ("list.txt", f"y{next(w.counter)}.bad.example\n".encode())}},
            ),
            INTEL_WRITERS,
            ok=201,
        ),
        ("GET", "/api/v1/intel/feeds"): make(get("/api/v1/intel/feeds"), NATIONAL),
        ("GET", "/api/v1/intel/feeds/{name}/pulls"): make(
            get("/api/v1/intel/feeds/matrix-feed/pulls"), NATIONAL
        ),
        ("POST", "/api/v1/intel/feeds/{name}/pull"): make(
            lambda _w, _o: ("POST", "/api/v1/intel/feeds/matrix-feed/pull", {}), INTEL_WRITERS
        ),
        ("GET", "/intel"): make(get("/intel"), NATIONAL),
        ("GET", "/intel/indicators/{indicator_id:path}"): make(
            get("/intel/indicators/domain:matrix.bad.example"), NATIONAL
        ),
        ("POST", "/intel/indicators"): make(
            lambda w, _o: (
                "POST",
                "/intel/indicators",
                {"data": {"type": "domain", "value": f"z{next(w.counter)}.bad.example"}},
            ),
            INTEL_WRITERS,
            ok=303,
        ),
        ("POST", "/intel/expire"): make(
            lambda w, _o: (
                "POST",
                "/intel/expire",
                {"data": {"id": listed(w), "reason": "matrix"}},
            ),
            INTEL_WRITERS,
            ok=303,
        ),
        ("GET", "/intel/feeds"): make(get("/intel/feeds"), NATIONAL),
        ("GET", "/intel/feeds/{name}"): make(get("/intel/feeds/matrix-feed"), NATIONAL),
    }
