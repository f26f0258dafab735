"""The console's password pages: counts of checks (blocks per month by organisation, ICB and
region; top reasons), policies, and directory audit reports.

Built on the same functions as `/api/v1/passwords`: the counts a caller sees are its
scope's, and a policy is saved through ``passwords.set_policy`` (audited).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from bastion import passwords
from bastion.core.errors import InputError, Location, PermissionDenied
from bastion.web.api.passwords import resolve_org
from bastion.web.charts import share_bar
from bastion.web.console.view import View
from bastion.web.deps import PRINTABLE

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Passwords = Annotated[View, Depends(View.of("passwords"))]
OrgField = Annotated[str, Form(max_length=16, pattern=PRINTABLE)]


@router.get("/passwords", name="password_page")
def password_page(
    view: Passwords, org: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = ""
) -> HTMLResponse:
    """Show blocks per month by organisation, ICB and region, the top reasons, and a policy."""
    session, principal, scope = view.session, view.principal, view.scope
    if org:
        code: str | None = resolve_org(principal, org, "passwords:read")
    else:  # a member sees its (first) organisation's policy; national roles the default
        code = None if scope.national or not scope.codes else scope.codes[0]
    principal.require("passwords:read")
    counts = passwords.check_counts(session, scope)
    blocks: dict[tuple[str, str], int] = {}
    reasons: dict[str, int] = {}
    for c in counts:
        reasons[c.reason] = reasons.get(c.reason, 0) + c.checks
        if c.reason not in passwords.NOT_BLOCKS:
            blocks[(c.month, c.org)] = blocks.get((c.month, c.org), 0) + c.checks
    placed = passwords.areas(session, {c.org for c in counts})
    by_region = passwords.blocks_by(counts, placed, "region")
    by_icb = passwords.blocks_by(counts, placed, "icb")
    peak = max(reasons.values(), default=0)
    top = [(r, n, share_bar(n, peak)) for r, n in sorted(reasons.items(), key=lambda x: -x[1])]
    policy, owner = passwords.get_policy(session, code)
    may_edit = (
        principal.can("passwords:write", code)
        if code
        else principal.can_nationally("passwords:write")
    )
    return view.render(
        "passwords/page.html",
        blocks=sorted(blocks.items(), reverse=True),
        by_region=sorted(by_region.items(), reverse=True),
        by_icb=sorted(by_icb.items(), reverse=True),
        top=top,
        org=code,
        owner=owner,
        policy=policy,
        may_edit=may_edit,
    )


@router.post("/passwords/policy", name="password_policy_save")
def password_policy_save(
    view: Passwords,
    org: OrgField = "",
    min_length: Annotated[int, Form(ge=1, le=1024)] = 15,
    min_length_mfa: Annotated[int, Form(ge=1, le=1024)] = 8,
    min_breach_count: Annotated[int, Form(ge=0, le=1 << 31)] = 1,
    scoring: Annotated[str, Form(max_length=4)] = "",
    banned_terms: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    """Save the organisation's policy (or, empty, the national default), audited; then show it."""
    principal = view.principal
    if org:
        code: str | None = resolve_org(principal, org, "passwords:write")
    elif principal.can_nationally("passwords:write"):
        code = None
    else:
        msg = f"{principal.actor} may not set the national password policy"
        raise PermissionDenied(msg)
    terms = tuple(t.strip() for t in banned_terms.replace(",", "\n").splitlines() if t.strip())
    if scoring not in ("", "on"):
        raise InputError("scoring: on or absent", Location(field="scoring"))  # noqa: EM101
    current, _ = passwords.get_policy(view.session, code)
    policy = passwords.Policy(
        min_length=min_length,
        min_length_mfa=min_length_mfa,
        max_length=current.max_length,
        min_breach_count=min_breach_count,
        scoring=scoring == "on",
        min_points=current.min_points,
        substitutions=current.substitutions,
        banned_terms=terms,
    )
    passwords.set_policy(view.session, principal.as_actor(), code, policy)
    return view.redirect("password_page", f"?org={code}" if code else "")


@router.get("/passwords/audits", name="password_audits")
def password_audits(view: Passwords) -> HTMLResponse:
    """List the directory audit reports the caller may see (members: their organisations')."""
    view.principal.require("passwords:read")
    return view.render(
        "passwords/audits.html", reports=passwords.list_audits(view.session, view.scope)
    )


@router.get("/passwords/audits/{audit_id}", name="password_audit")
def password_audit(audit_id: int, view: Passwords) -> HTMLResponse:
    """Show one report: the accounts with breached, shared or empty passwords."""
    report = passwords.get_audit(view.session, view.scope, audit_id)  # another tenant's: 404 first
    view.principal.require("passwords:read", report.org)
    return view.render("passwords/audit.html", report=report)
