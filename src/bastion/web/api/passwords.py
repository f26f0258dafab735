"""`/api/v1/passwords`: check a new password, the k-anonymous variant, policies, counts and directory audit reports.

A directory agent calls ``POST /check`` with its organisation's token; the
password is never logged (the access log has no bodies) nor stored: the verdict's
reason is counted per organisation and day. ``POST /check/range`` is the variant
that never sends the password: the agent sends the first five hex digits of its
SHA-1 and checks locally against the suffixes answered, with the policy's lengths.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass
from starlette.concurrency import run_in_threadpool

from bastion import passwords
from bastion.auth import Principal
from bastion.core.errors import InputError, NotFoundError, PermissionDenied
from bastion.web.auth import PrincipalDep, ScopeDep
from bastion.web.deps import PRINTABLE, SessionDep
from bastion.web.passwords import breach_stores

router = APIRouter(prefix="/passwords", tags=["passwords"])


def resolve_org(principal: Principal, org: str | None, permission: str) -> str:
    """Return the organisation the call is for: named, or the caller's only one."""
    if org is None:
        codes = principal.scope.codes
        if principal.token_org:
            return principal.token_org
        if codes is None or len(codes) != 1:
            msg = "org: name the organisation (the caller belongs to more than one, or is national)"
            raise InputError(msg)
        org = codes[0]
    org = org.strip().upper()
    if not principal.scope.allows(org):
        msg = f"no organisation with code {org!r}"
        raise NotFoundError(msg)
    principal.require(permission, org)
    return org


class CheckIn(BaseModel):
    password: str = Field(min_length=1, max_length=1024, description="the new password (TLS only)")
    org: str | None = Field(default=None, max_length=16, pattern=PRINTABLE)
    mfa: bool = Field(default=False, description="the account also has a second factor")
    user_words: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=20,
        description="the person's own names and account name, never accepted as the password",
    )


class CheckOut(BaseModel):
    accepted: bool
    reason: str = Field(description=", ".join(passwords.REASONS))
    message: str
    points: int | None = None


@router.post("/check", summary="Check a new password against the organisation's policy")
async def check_password(
    body: CheckIn, request: Request, session: SessionDep, principal: PrincipalDep
) -> CheckOut:
    """Return whether the password is accepted and why not; count the reason, keep nothing else.

    In the event loop when this process holds the organisation's policy and words (the
    check then reads no table: the breached store is memory-mapped, the count is
    tallied), else in the thread pool.
    """
    org = resolve_org(principal, body.org, "passwords:read")
    run = partial(
        passwords.check_password,
        session,
        breach_stores(request),
        org,
        body.password,
        mfa=body.mfa,
        user_words=body.user_words,
        tally=request.app.state.check_tally,
    )
    verdict = run() if passwords.checks_held(session, org) else await run_in_threadpool(run)
    return CheckOut(**verdict.__dict__)


class RangeIn(BaseModel):
    prefix: str = Field(min_length=5, max_length=5, description="first five hex digits of SHA-1")
    org: str | None = Field(default=None, max_length=16, pattern=PRINTABLE)


class RangeOut(BaseModel):
    policy: dict[str, Any]
    suffixes: dict[str, int] = Field(description="breached suffixes at or over the policy's count")


@router.post("/check/range", summary="The k-anonymous check: a hash prefix in, suffixes out")
def check_range(
    body: RangeIn, request: Request, session: SessionDep, principal: PrincipalDep
) -> RangeOut:
    """Return the breached suffixes of a prefix that the organisation's policy refuses.

    Counted per organisation and day as ``prefix_only`` (the client decides the verdict).
    """
    org = resolve_org(principal, body.org, "passwords:read")
    policy, wanted = passwords.check_prefix(
        session, breach_stores(request), org, body.prefix, request.app.state.check_tally
    )
    settings = {k: v for k, v in policy.settings().items() if k != "substitutions"}
    return RangeOut(policy=settings, suffixes=wanted)


@dataclass(frozen=True)
class PolicyIO(passwords.Policy):
    """A password policy as the API reads and writes it: the domain's own fields and defaults,
    at most 1,000 banned terms."""

    banned_terms: Annotated[tuple[str, ...], Field(max_length=1000)] = passwords.DEFAULT_BANNED


@dataclass(frozen=True, kw_only=True)
class PolicyOut(PolicyIO):
    owner: str = Field(
        description="whose policy is in force: the organisation, national or default"
    )


@router.get("/policy", summary="The password policy in force at an organisation")
def get_policy(
    session: SessionDep,
    principal: PrincipalDep,
    org: Annotated[str | None, Query(max_length=16, pattern=PRINTABLE)] = None,
) -> PolicyOut:
    """Return the organisation's policy (its own, or the national default it inherits)."""
    code = resolve_org(principal, org, "passwords:read") if org or not principal.national else None
    policy, owner = passwords.get_policy(session, code)
    return PolicyOut(owner=owner, **passwords.policy_fields(policy))


@router.put("/policy", summary="Set an organisation's password policy (or the national default)")
def put_policy(
    body: PolicyIO,
    session: SessionDep,
    principal: PrincipalDep,
    org: Annotated[str | None, Query(max_length=16, pattern=PRINTABLE)] = None,
) -> PolicyOut:
    """Save the policy; without ``org``, the national default (national administrators)."""
    if org is None:
        if not principal.can_nationally("passwords:write"):
            msg = f"{principal.actor} may not set the national password policy"
            raise PermissionDenied(msg)
        code = None
    else:
        code = resolve_org(principal, org, "passwords:write")
    saved = passwords.set_policy(session, principal.as_actor(), code, body)
    return PolicyOut(owner=code or "national", **passwords.policy_fields(saved))


class CountOut(BaseModel):
    org: str
    icb: str | None = Field(description="the organisation's integrated care board (code)")
    region: str | None = Field(description="the organisation's NHS England region (code)")
    month: str
    reason: str = Field(description=", ".join(passwords.COUNTED))
    checks: int


@router.get(
    "/stats", summary="Password checks per organisation (with its ICB and region), month and reason"
)
def stats(
    session: SessionDep, principal: PrincipalDep, scope: ScopeDep, since: date | None = None
) -> list[CountOut]:
    """Return the counts the caller may see (members: their own; national: all)."""
    principal.require("passwords:read")
    counts = passwords.check_counts(session, scope, since=since)
    placed = passwords.areas(session, {c.org for c in counts})
    return [
        CountOut(
            **c.__dict__,
            icb=(placed[c.org].icb or (None,))[0],
            region=(placed[c.org].region or (None,))[0],
        )
        for c in counts
    ]


class AuditOut(BaseModel):
    id: int
    org: str
    created_at: datetime
    actor: str
    source: str = Field(description="the name of the export audited")
    accounts: int
    breached: list[str] = Field(description="accounts whose password is in the breached store")
    shared: list[list[str]] = Field(description="groups of accounts sharing one password")
    empty: list[str] = Field(description="accounts with an empty password")
    bad_lines: list[int] = Field(description="numbers of the export's unreadable lines")


@router.get("/audits", summary="Directory audit reports the caller may see (newest first)")
def list_audits(
    session: SessionDep,
    principal: PrincipalDep,
    scope: ScopeDep,
    org: Annotated[str | None, Query(max_length=16, pattern=PRINTABLE)] = None,
) -> list[AuditOut]:
    """Return the audit reports of the caller's organisations (national roles: all)."""
    principal.require("passwords:read")
    code = resolve_org(principal, org, "passwords:read") if org else None
    return [AuditOut(**r.__dict__) for r in passwords.list_audits(session, scope, org=code)]


@router.get("/audits/{audit_id}", summary="One directory audit report")
def get_audit(
    audit_id: int, session: SessionDep, principal: PrincipalDep, scope: ScopeDep
) -> AuditOut:
    """Return one report; another organisation's answers 404, as an absent one does."""
    report = passwords.get_audit(session, scope, audit_id)  # another tenant's: 404 first
    principal.require("passwords:read", report.org)
    return AuditOut(**report.__dict__)
