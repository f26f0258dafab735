"""The tenancy matrix's rows for the assurance routes (API and console), built on its ``World``.

``assure_routes`` is handed the matrix's ``Case`` type, so this module need not
import the matrix (which imports it). Each organisation has one DSPT return and
one Cyber Essentials return (made when first asked for); a route that changes a
return gets a fresh one (a new period), so every call can succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bastion import assure
from bastion.audit import Actor
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope

READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi"})
WRITERS = frozenset({"admin", "analyst", "lead", "multi"})
NATIONAL_WRITERS = frozenset({"admin", "analyst"})  # move a review not assigned to them
API = "/api/v1/assure"
ACTOR = Actor.cli("matrix")
EVERYTHING = Scope.everything()
Build = Callable[[Any, str], tuple[str, str, dict[str, Any]]]


def _frameworks(w: Any) -> None:
    with w.store.session() as session:
        try:
            assure.get_framework(session, "cyber-essentials")
        except NotFoundError:
            for name in assure.SHIPPED:
                assure.store_framework(session, assure.shipped_library(name), actor=ACTOR)


def fresh_return(w: Any, org: str, framework: str = "dspt", *, reviewed: bool = False) -> int:
    """Open a new return of ``org`` (a period of its own; an independent review assigned if
    ``reviewed``) and return its id."""
    _frameworks(w)
    start = 1900 + next(w.counter)
    with w.store.session() as session:
        made = assure.open_return(session, org, f"{start}-{(start + 1) % 100:02d}", framework,
                                  actor=ACTOR, scope=EVERYTHING)  # fmt: skip
        if reviewed:
            assure.assign_review(
                session, made.id, "independent", "nobody-here", actor=ACTOR, scope=EVERYTHING
            )
        return made.id


def return_of(w: Any, org: str, framework: str = "dspt") -> int:
    """Return ``org``'s standing return of ``framework`` (made once, in 2024-25)."""
    cache: dict[str, int] = w.__dict__.setdefault("assure_cache", {})
    key = f"{org}/{framework}"
    if key not in cache:
        _frameworks(w)
        with w.store.session() as session:
            made = assure.open_return(
                session, org, "2024-25", framework, actor=ACTOR, scope=EVERYTHING
            )
            cache[key] = made.id
    return cache[key]


def assure_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every assurance route: ``make`` is the matrix's ``Case``."""

    def everyone(path: str, **params: str) -> Any:
        def build(w: Any, org: str) -> tuple[str, str, dict[str, Any]]:
            return_of(w, org)
            return "GET", path, {"params": params}

        return make(build, READERS)

    def on_org(verb: str, tail: str, allowed: frozenset[str], ok: int = 200, framework: str = "dspt",
               body: dict[str, Any] | None = None, fresh: bool = False, reviewed: bool = False,
               **params: str) -> Any:  # fmt: skip
        def build(w: Any, org: str) -> tuple[str, str, dict[str, Any]]:
            made = (
                fresh_return(w, org, framework, reviewed=reviewed)
                if fresh
                else return_of(w, org, framework)
            )
            extra: dict[str, Any] = {"params": params} if params else {}
            if body is not None:
                extra["json"] = body
            return verb, f"{API}/returns/{made}{tail}", extra

        return make(build, allowed, ok=ok, by_org=True)

    def by_code(tail: str, framework: str) -> Any:
        def build(w: Any, org: str) -> tuple[str, str, dict[str, Any]]:
            return_of(w, org, framework)
            if framework == "cyber-essentials":
                return_of(w, org, "dspt")
            return "GET", f"{API}/{tail}/{org}", {}

        return make(build, READERS, by_org=True)

    def open_new(w: Any, org: str) -> tuple[str, str, dict[str, Any]]:
        _frameworks(w)
        start = 2100 + next(w.counter)
        return (
            "POST",
            f"{API}/returns",
            {"json": {"org": org, "period": f"{start}-{(start + 1) % 100:02d}"}},
        )

    def page(verb: str, tail: str, allowed: frozenset[str], form: dict[str, str] | None = None, ok: int = 200,
             framework: str = "dspt", reviewed: bool = False) -> Any:  # fmt: skip
        def build(w: Any, org: str) -> tuple[str, str, dict[str, Any]]:
            made = (
                return_of(w, org)
                if verb == "GET"
                else fresh_return(w, org, framework, reviewed=reviewed)
            )
            return verb, f"/assure/returns/{made}{tail}", {"data": form or {}}

        return make(build, allowed, ok=ok, by_org=True)

    def evidence_page(w: Any, org: str) -> tuple[str, str, dict[str, Any]]:
        return_of(w, org)
        return "GET", f"/assure/evidence/{org}", {}

    review = {"state": "in_progress", "outcome": "1", "comment": "evidence?"}
    action = {"outcome": "3", "text": "Train the board", "owner": "DPO", "due": "2025-05-01"}
    return {
        ("GET", f"{API}/frameworks"): everyone(f"{API}/frameworks"),
        ("GET", f"{API}/returns"): everyone(f"{API}/returns"),
        ("GET", f"{API}/dashboard"): everyone(f"{API}/dashboard"),
        ("GET", f"{API}/dashboard.csv"): everyone(f"{API}/dashboard.csv", table="type"),
        ("POST", f"{API}/returns"): make(open_new, WRITERS, ok=201, by_org=True),
        ("GET", f"{API}/returns/{{return_id}}"): on_org("GET", "", READERS),
        ("GET", f"{API}/returns/{{return_id}}/versions"): on_org("GET", "/versions", READERS),
        ("GET", f"{API}/returns/{{return_id}}/plan"): on_org("GET", "/plan", READERS),
        ("GET", f"{API}/returns/{{return_id}}/export"): on_org(
            "GET", "/export", READERS, format="pdf"
        ),
        ("PATCH", f"{API}/returns/{{return_id}}"): on_org(
            "PATCH", "", WRITERS, body={"answers": {"1.1": True}}
        ),
        ("POST", f"{API}/returns/{{return_id}}/publish"): on_org(
            "POST", "/publish", WRITERS, framework="cyber-essentials", fresh=True
        ),
        ("POST", f"{API}/returns/{{return_id}}/prefill"): on_org(
            "POST", "/prefill", WRITERS, fresh=True
        ),
        ("POST", f"{API}/returns/{{return_id}}/reviews"): on_org(
            "POST", "/reviews", WRITERS, body={"kind": "peer", "reviewer": "pat"}, fresh=True
        ),
        ("PATCH", f"{API}/returns/{{return_id}}/reviews/{{kind}}"): on_org(
            "PATCH",
            "/reviews/independent",
            NATIONAL_WRITERS,
            body=review,
            fresh=True,
            reviewed=True,
        ),
        ("POST", f"{API}/returns/{{return_id}}/plan"): on_org(
            "POST", "/plan", WRITERS, ok=201, body=action
        ),
        ("GET", f"{API}/peers/{{org}}"): by_code("peers", "dspt"),
        ("GET", f"{API}/evidence/{{org}}"): by_code("evidence", "cyber-essentials"),
        ("GET", "/assure/evidence/{org}"): make(evidence_page, READERS, by_org=True),
        # The console's pages and forms: the same visibility, the same roles.
        ("GET", "/assure"): everyone("/assure"),
        ("GET", "/assure/returns/{return_id}"): page("GET", "", READERS),
        ("POST", "/assure/returns/{return_id}"): page(
            "POST", "", WRITERS, {"answer:1.1": "yes"}, ok=303
        ),
        ("POST", "/assure/returns/{return_id}/publish"): page(
            "POST", "/publish", WRITERS, {}, ok=303, framework="cyber-essentials"
        ),
        ("POST", "/assure/returns/{return_id}/reviewers"): page(
            "POST", "/reviewers", WRITERS, {"kind": "self", "reviewer": "sam"}, ok=303
        ),
        ("POST", "/assure/returns/{return_id}/review"): page(
            "POST",
            "/review",
            NATIONAL_WRITERS,
            {"kind": "independent", "state": "completed"},
            ok=303,
            reviewed=True,
        ),
        ("POST", "/assure/returns/{return_id}/plan"): page(
            "POST",
            "/plan",
            WRITERS,
            {"outcome": "3", "text": "Train", "owner": "DPO", "due": "2025-05-01"},
            ok=303,
        ),
        ("GET", f"{API}/score/{{org}}"): by_code("score", "cyber-essentials"),
    }
