"""The tenancy matrix's rows for the alerts routes (API and console).

``alerts_routes`` is handed the matrix's ``Case`` type and its ``hit`` (an organisation's
marked alert candidate); a route that triages gets fresh alerts, so every call can succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
from tests.web.matrix_rows import get

from bastion.alerts import list_alerts, record_alerts

Hit = Callable[[str, int], dict[str, Any]]
READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi", "token"})
TRIAGERS = frozenset({"admin", "analyst", "lead", "multi"})
NATIONAL_WRITERS = frozenset({"admin", "analyst"})


def fresh_alerts(w: Any, org: str, hit: Hit, n: int = 1) -> list[int]:
    """Record ``n`` new alerts of ``org`` on one host and observable (one group); their ids."""
    tag = next(w.counter)
    frame = pl.DataFrame(
        [{**hit(org, 3), "key": f"fresh-{tag}-{i}", "observable": f"obs-{tag}"} for i in range(n)]
    )
    with w.store.session() as session:
        record_alerts(session, frame)
        found, _ = list_alerts(session, org=org)
    return sorted(a.id for a in found if a.key.startswith(f"fresh-{tag}-"))


def alerts_routes(make: Callable[..., Any], hit: Hit) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every alerts route: ``make`` is the matrix's ``Case``.

    ``hit(org, minute)`` is the candidate of a marked alert at ``org``.
    """

    def triage_case(action: str, body: dict[str, Any], *, n: int = 1, ok: int = 200) -> Any:
        return make(
            lambda w, org: (
                "POST",
                f"/api/v1/alerts/{fresh_alerts(w, org, hit, n)[-1]}/{action}",
                {"json": body},
            ),
            TRIAGERS,
            ok=ok,
            by_org=True,
        )

    return {
        ("GET", "/api/v1/alerts"): make(get("/api/v1/alerts"), READERS),
        ("GET", "/api/v1/alerts/{alert_id}"): make(
            lambda w, org: ("GET", f"/api/v1/alerts/{w.alert_ids[org]}", {}), READERS, by_org=True
        ),
        ("POST", "/api/v1/alerts/{alert_id}/ack"): triage_case("ack", {"reason": "seen"}),
        ("POST", "/api/v1/alerts/{alert_id}/assign"): triage_case("assign", {"assignee": "soc"}),
        ("POST", "/api/v1/alerts/{alert_id}/close"): triage_case("close", {"resolution": "benign"}),
        ("POST", "/api/v1/alerts/{alert_id}/notes"): triage_case("notes", {"text": "hi"}, ok=201),
        ("POST", "/api/v1/alerts/{alert_id}/split"): triage_case("split", {}, n=2),
        ("POST", "/api/v1/alerts/bulk"): make(
            lambda w, org: (
                "POST",
                "/api/v1/alerts/bulk",
                {"json": {"action": "ack", "ids": fresh_alerts(w, org, hit), "reason": "bulk"}},
            ),
            TRIAGERS,
            by_org=True,
        ),
        ("GET", "/api/v1/alerts/{alert_id}/history"): make(
            lambda w, org: ("GET", f"/api/v1/alerts/{w.alert_ids[org]}/history", {}),
            READERS,
            by_org=True,
        ),
        ("GET", "/api/v1/alerts/groups/{group_id}"): make(
            lambda w, org: ("GET", f"/api/v1/alerts/groups/{w.alert_ids[org]}", {}),
            READERS,
            by_org=True,
        ),
        ("POST", "/alerts/{alert_id}/triage"): make(
            lambda w, org: (
                "POST",
                f"/alerts/{fresh_alerts(w, org, hit)[0]}/triage",
                {"data": {"action": "assign", "assignee": "soc", "reason": "mine"}},
            ),
            TRIAGERS,
            ok=303,
            by_org=True,
        ),
        ("POST", "/alerts/triage"): make(
            lambda w, org: (
                "POST",
                "/alerts/triage",
                {"data": {"action": "ack", "ids": fresh_alerts(w, org, hit), "reason": "bulk"}},
            ),
            TRIAGERS,
            ok=303,
            by_org=True,
        ),
        ("POST", "/api/v1/alerts/ingest"): make(
            lambda w, org: (
                "POST",
                "/api/v1/alerts/ingest",
                {
                    "json": {
                        "source": "siem",
                        "alerts": [
                            {
                                "id": f"m{next(w.counter)}",
                                "title": "x",
                                "time": hit(org, 0)["@timestamp"].isoformat(),
                            }
                        ],
                    }
                },
            ),
            NATIONAL_WRITERS,
            ok=201,
        ),
        ("GET", "/alerts"): make(get("/alerts"), READERS),
        ("GET", "/alerts/{alert_id}"): make(
            lambda w, org: ("GET", f"/alerts/{w.alert_ids[org]}", {}), READERS, by_org=True
        ),
    }
