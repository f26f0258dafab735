"""The tenancy matrix's rows for the uptime routes (API and console), built on its ``World``.

Each organisation has one monitor, SLO and incident (made when first asked for);
a route that changes one gets a fresh one where the change cannot repeat. The
public routes (status pages, push heartbeats) are in ``UPTIME_PUBLIC``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bastion import uptime
from bastion.audit import Actor
from bastion.core.scope import Scope

READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi"})
WRITERS = frozenset({"admin", "analyst", "lead", "multi"})
NATIONAL_WRITERS = frozenset({"admin", "analyst"})
API = "/api/v1/uptime"
ACTOR = Actor.cli("matrix")
EVERYTHING = Scope.everything()
UPTIME_PUBLIC = {
    ("GET", "/status/{slug}"),
    ("GET", "/status/{slug}/status.json"),
    ("GET", "/status/{slug}/feed.atom"),
    ("GET", "/push/{token}"),
    ("POST", "/push/{token}"),
}


def _cache(w: Any) -> dict[str, int]:
    found: dict[str, int] = w.__dict__.setdefault("uptime_cache", {})
    return found


def fresh_monitor(w: Any, org: str) -> int:
    item = uptime.monitor(f"matrix-{next(w.counter)}", "http", "http://127.0.0.1:9/", org=org,
                          service=f"Svc-{org}")  # fmt: skip
    with w.store.session() as session:
        return uptime.add_monitor(session, item, actor=ACTOR, scope=EVERYTHING).id


def fresh_incident(w: Any, org: str) -> int:
    with w.store.session() as session:
        made = uptime.open_incident(session, org, f"Svc-{org}", "Matrix incident", actor=ACTOR,
                                    scope=EVERYTHING)  # fmt: skip
    return made.id


def _one(w: Any, org: str, kind: str) -> int:
    cache = _cache(w)
    key = f"{org}/{kind}"
    if key not in cache:
        if kind == "monitor":
            cache[key] = fresh_monitor(w, org)
        elif kind == "incident":
            cache[key] = fresh_incident(w, org)
        else:
            with w.store.session() as session:
                slo = uptime.Slo(org, f"Svc-{org}", 0.999)
                cache[key] = uptime.add_slo(session, slo, actor=ACTOR, scope=EVERYTHING).id
    return cache[key]


def uptime_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every uptime route: ``make`` is the matrix's ``Case``."""

    def get(path: str) -> Callable[[Any, str], tuple[str, str, dict[str, Any]]]:
        return lambda _w, _o: ("GET", path, {})

    def of(kind: str, path: str) -> Any:
        return make(
            lambda w, org: ("GET", path.format(_one(w, org, kind)), {}), READERS, by_org=True
        )

    def change(build: Callable[[Any, str], tuple[str, str, dict[str, Any]]], ok: int = 200) -> Any:
        return make(build, WRITERS, ok=ok, by_org=True)

    monitor_body = lambda w, org: {  # noqa: E731
        "name": f"new-{next(w.counter)}", "kind": "tcp", "target": "127.0.0.1:9", "org": org,
        "service": f"Svc-{org}",
    }  # fmt: skip
    return {
        ("GET", f"{API}/monitors"): make(get(f"{API}/monitors"), READERS),
        ("POST", f"{API}/monitors"): change(
            lambda w, org: ("POST", f"{API}/monitors", {"json": monitor_body(w, org)}), 201
        ),
        ("GET", f"{API}/monitors/{{monitor_id}}"): of("monitor", API + "/monitors/{}"),
        ("POST", f"{API}/monitors/{{monitor_id}}/pause"): change(
            lambda w, org: (
                "POST",
                f"{API}/monitors/{_one(w, org, 'monitor')}/pause",
                {"json": {"paused": False}},
            )
        ),
        ("GET", f"{API}/slos"): make(get(f"{API}/slos"), READERS),
        ("POST", f"{API}/slos"): change(
            lambda _w, org: (
                "POST",
                f"{API}/slos",
                {"json": {"org": org, "service": f"Svc-{org}"}},
            ),
            201,
        ),
        ("GET", f"{API}/slos/{{slo_id}}"): of("slo", API + "/slos/{}"),
        ("GET", f"{API}/incidents"): make(get(f"{API}/incidents"), READERS),
        ("POST", f"{API}/incidents"): change(
            lambda _w, org: (
                "POST",
                f"{API}/incidents",
                {"json": {"org": org, "service": f"Svc-{org}", "title": "Down"}},
            ),
            201,
        ),
        ("GET", f"{API}/incidents/{{incident_id}}"): of("incident", API + "/incidents/{}"),
        ("POST", f"{API}/incidents/{{incident_id}}/updates"): change(
            lambda w, org: (
                "POST",
                f"{API}/incidents/{fresh_incident(w, org)}/updates",
                {"json": {"status": "identified", "text": "found it"}},
            ),
            201,
        ),
        ("GET", f"{API}/report"): make(
            lambda w, org: (
                "GET",
                f"{API}/report",
                {
                    "params": {
                        "service": f"Svc-{org}",
                        "period": "2026-11",
                        "_": _one(w, org, "monitor"),
                    }
                },
            ),
            READERS,
            by_org=True,
        ),
        ("GET", f"{API}/metrics"): make(get(f"{API}/metrics"), READERS),
        ("GET", f"{API}/traffic"): make(
            lambda w, org: (
                "GET",
                f"{API}/traffic",
                {"params": {"service": f"Svc-{org}", "days": 7, "_": _one(w, org, "monitor")}},
            ),
            READERS,
            by_org=True,
        ),
        ("GET", f"{API}/certificates"): make(get(f"{API}/certificates"), READERS),
        ("POST", f"{API}/results"): make(
            lambda w, org: (
                "POST",
                f"{API}/results",
                {
                    "json": {
                        "agent": "matrix",
                        "batch": f"b{next(w.counter)}",
                        "results": [
                            {
                                "monitor": _one(w, org, "monitor"),
                                "at": "2026-11-02T09:00:00+00:00",
                                "ok": True,
                                "latency_ms": 3.5,
                            }
                        ],
                    }
                },
            ),
            NATIONAL_WRITERS,
            ok=202,
        ),
        # The console's pages.
        ("GET", "/uptime"): make(get("/uptime"), READERS),
        ("GET", "/uptime/monitors/{monitor_id}"): of("monitor", "/uptime/monitors/{}"),
        ("GET", "/uptime/slos"): make(get("/uptime/slos"), READERS),
        ("GET", "/uptime/slos/{slo_id}"): of("slo", "/uptime/slos/{}"),
        ("GET", "/uptime/incidents"): make(get("/uptime/incidents"), READERS),
    }
