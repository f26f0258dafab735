"""The tenancy matrix's rows for the cases routes (API and console), built on its ``World``.

``case_routes`` is handed the matrix's ``Case`` type and helpers, so this module
need not import the matrix (which imports it). Each organisation has one case
(made when first asked for) holding an alert, an observable of its own and an
attachment; a route that changes a case gets a fresh one, so every call can succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from bastion import cases
from bastion.alerts import list_alerts, record_alerts
from bastion.audit import Actor
from bastion.core.scope import Scope

READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi"})
WRITERS = frozenset({"admin", "analyst", "lead", "multi"})
HUNTERS = frozenset({"admin", "analyst"})  # a hunt reads every organisation's events
API = "/api/v1/cases"
ACTOR = Actor.cli("matrix")
EVERYTHING = Scope.everything()


def _cache(w: Any) -> dict[str, Any]:
    found: dict[str, Any] = w.__dict__.setdefault("cases_cache", {})
    return found


def fresh_alert(w: Any, org: str, hit: Callable[[str, int], dict[str, Any]]) -> int:
    """Record a new alert at ``org`` (a key of its own) and return its id."""
    n = next(w.counter)
    key = f"matrix-case-{n}"
    # A host and an address of its own: an alert group of its own, promoted or merged once.
    alone = {"key": key, "host.ip": f"10.77.{n // 250}.{n % 250}", "indicator.value": f"x{n}"}
    with w.store.session() as session:
        record_alerts(session, pl.DataFrame([{**hit(org, 0), **alone}]))
        [alert], _ = list_alerts(session, key=key)
    return alert.id


def fresh_case(w: Any, org: str) -> int:
    """Open a new case at ``org`` and return its id."""
    with w.store.session() as session:
        draft = cases.CaseDraft(f"Matrix case {next(w.counter)}", (org,), template="Phishing")
        return cases.create_case(session, draft, actor=ACTOR, scope=EVERYTHING).id


def case_of(w: Any, org: str) -> int:
    """Return ``org``'s case, made once with an observable and an attachment."""
    cache = _cache(w)
    if org not in cache:
        case_id = fresh_case(w, org)
        with w.store.session() as session:
            cases.add_observable(
                session, case_id, "domain", f"{org.lower()}.campaign.example", actor=ACTOR,
                scope=EVERYTHING,
            )  # fmt: skip
            cache[f"{org}/attachment"] = cases.add_attachment(
                session, case_id, "mail.eml", b"Received: matrix", actor=ACTOR, scope=EVERYTHING,
                root=w.app.state.settings.attachments_dir, max_bytes=1000,
            )  # fmt: skip
        cache[org] = case_id
    return int(cache[org])


def task_of(w: Any, org: str) -> tuple[int, int]:
    """Return a fresh case at ``org`` and the id of its first task."""
    case_id = fresh_case(w, org)
    with w.store.session() as session:
        return case_id, cases.get_case(session, case_id, EVERYTHING).tasks[0].id


def case_routes(
    make: Callable[..., Any],
    hit: Callable[[str, int], dict[str, Any]],
    advisory: Callable[[Any, str], str],
) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every cases route: ``make`` is the matrix's ``Case``."""

    def get(path: str) -> Callable[[Any, str], tuple[str, str, dict[str, Any]]]:
        return lambda _w, _o: ("GET", path, {})

    def on_case(
        verb: str, tail: str, body: dict[str, Any] | None = None, *, form: bool = False
    ) -> Callable[[Any, str], tuple[str, str, dict[str, Any]]]:
        key = "data" if form else "json"
        return lambda w, org: (verb, f"{API}/{fresh_case(w, org)}{tail}", {key: body or {}})

    def api(build: Callable[..., Any], allowed: frozenset[str] = WRITERS, ok: int = 200) -> Any:
        return make(build, allowed, ok=ok, by_org=True)

    return {
        ("GET", API): make(get(API), READERS),
        ("GET", f"{API}/campaigns"): make(get(f"{API}/campaigns"), READERS),
        ("GET", f"{API}/stats"): make(get(f"{API}/stats"), READERS),
        ("GET", f"{API}/campaigns/{{kind}}/{{value:path}}"): api(
            lambda w, org: (
                "GET",
                f"{API}/campaigns/domain/{org.lower()}.campaign.example",
                {"params": {"_": case_of(w, org)}},
            ),
            READERS,
        ),
        ("GET", f"{API}/{{case_id}}"): api(
            lambda w, org: ("GET", f"{API}/{case_of(w, org)}", {}), READERS
        ),
        ("GET", f"{API}/{{case_id}}/attachments/{{attachment_id}}"): api(
            lambda w, org: (
                "GET",
                f"{API}/{case_of(w, org)}/attachments/{_cache(w)[f'{org}/attachment']}",
                {},
            ),
            READERS,
        ),
        ("POST", API): api(
            lambda _w, org: ("POST", API, {"json": {"title": "New case", "organisations": [org]}}),
            ok=201,
        ),
        ("POST", f"{API}/from-alert"): api(
            lambda w, org: (
                "POST",
                f"{API}/from-alert",
                {"json": {"alert_id": fresh_alert(w, org, hit)}},
            ),
            ok=201,
        ),
        ("PATCH", f"{API}/{{case_id}}"): api(
            on_case("PATCH", "", {"patient_impact": "potential", "clinical_systems": ["PACS"]})
        ),
        ("POST", f"{API}/{{case_id}}/status"): api(
            on_case("POST", "/status", {"status": "triage"})
        ),
        ("POST", f"{API}/{{case_id}}/owner"): api(on_case("POST", "/owner", {"owner": "soc"})),
        ("POST", f"{API}/{{case_id}}/notes"): api(
            on_case("POST", "/notes", {"text": "called"}), ok=201
        ),
        ("POST", f"{API}/{{case_id}}/observables"): api(
            on_case("POST", "/observables", {"kind": "domain", "value": "x.example"}), ok=201
        ),
        ("POST", f"{API}/{{case_id}}/tasks"): api(
            on_case("POST", "/tasks", {"title": "t"}), ok=201
        ),
        ("PATCH", f"{API}/{{case_id}}/tasks/{{task_id}}"): api(
            lambda w, org: (
                "PATCH",
                "{}/{}/tasks/{}".format(API, *task_of(w, org)),
                {"json": {"status": "done"}},
            )
        ),
        ("POST", f"{API}/{{case_id}}/alerts"): api(
            lambda w, org: (
                "POST",
                f"{API}/{fresh_case(w, org)}/alerts",
                {"json": {"alert_id": fresh_alert(w, org, hit)}},
            )
        ),
        ("POST", f"{API}/{{case_id}}/merge"): api(
            lambda w, org: (
                "POST",
                f"{API}/{fresh_case(w, org)}/merge",
                {"json": {"case_id": fresh_case(w, org)}},
            )
        ),
        ("POST", f"{API}/{{case_id}}/advisories"): api(
            lambda w, org: (
                "POST",
                f"{API}/{fresh_case(w, org)}/advisories",
                {"json": {"ref": advisory(w, org)}},
            )
        ),
        ("POST", f"{API}/{{case_id}}/clocks/{{clock}}/report"): api(
            on_case("POST", "/clocks/sector/report")
        ),
        ("POST", f"{API}/{{case_id}}/evidence"): api(
            on_case("POST", "/evidence", {"query": "SELECT * FROM events", "limit": 5}),
            HUNTERS,
            201,
        ),
        ("POST", f"{API}/{{case_id}}/attachments"): api(
            lambda w, org: (
                "POST",
                f"{API}/{fresh_case(w, org)}/attachments",
                {"files": {"file": ("note.txt", b"evidence")}},
            ),
            ok=201,
        ),
        # The console's pages and forms.
        ("GET", "/cases"): make(get("/cases"), READERS),
        ("GET", "/cases/stats"): make(get("/cases/stats"), READERS),
        ("GET", "/cases/campaigns"): api(
            lambda w, org: (
                "GET",
                "/cases/campaigns",
                {
                    "params": {
                        "kind": "domain",
                        "value": f"{org.lower()}.campaign.example",
                        "_": case_of(w, org),
                    }
                },
            ),
            READERS,
        ),
        ("GET", "/cases/{case_id}"): api(
            lambda w, org: ("GET", f"/cases/{case_of(w, org)}", {}), READERS
        ),
        ("POST", "/cases"): api(
            lambda _w, org: (
                "POST",
                "/cases",
                {"data": {"title": "From the form", "organisations": org}},
            ),
            ok=303,
        ),
        ("POST", "/cases/{case_id}/attach"): api(
            lambda w, org: (
                "POST",
                f"/cases/{fresh_case(w, org)}/attach",
                {"files": {"file": ("note.txt", b"evidence")}},
            ),
            ok=303,
        ),
        ("POST", "/cases/{case_id}/act"): api(
            lambda w, org: (
                "POST",
                f"/cases/{fresh_case(w, org)}/act",
                {"data": {"step": "note", "value": "seen"}},
            ),
            ok=303,
        ),
    }
