"""API tokens for machines: hashed at rest, scoped, bound to an organisation or national,
expiring and revocable.

A token reads ``bst_<id>_<secret>``; only the SHA-256 of the whole token is
kept (the secret is 256 random bits, so a slow hash adds nothing), and the
token is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from bastion import audit, orgs
from bastion.auth.models import TokenRow
from bastion.auth.principal import Principal, PrincipalKind
from bastion.auth.roles import parse_permissions
from bastion.auth.touch import later
from bastion.core.errors import InputError, Location, NotFoundError, PermissionDenied
from bastion.core.records import from_row
from bastion.core.timeutil import as_utc, utcnow
from bastion.core.types import org_code
from bastion.store.membership import one_of
from bastion.store.paging import page_of

PREFIX = "bst_"
MAX_LIFETIME = timedelta(days=366)
DEFAULT_LIFETIME = timedelta(days=90)


class TokenStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class ApiToken:
    """A token as listed: never its secret."""

    id: int
    name: str
    org: str | None
    scopes: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    status: TokenStatus


@dataclass(frozen=True)
class NewToken:
    """A token just created, with its secret value (shown this once)."""

    token: ApiToken
    value: str


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _status(row: TokenRow, now: datetime) -> TokenStatus:
    if row.revoked_at is not None:
        return TokenStatus.REVOKED
    if as_utc(row.expires_at) <= now:
        return TokenStatus.EXPIRED
    return TokenStatus.ACTIVE


def _to_domain(row: TokenRow, now: datetime | None = None) -> ApiToken:
    return from_row(
        ApiToken,
        row,
        org=row.org_code,
        scopes=tuple(sorted(row.scopes)),
        status=_status(row, now or utcnow()),
    )


def _view(token: ApiToken) -> dict[str, Any]:
    return {
        "name": token.name,
        "org": token.org,
        "scopes": list(token.scopes),
        "expires_at": token.expires_at.isoformat(),
        "status": token.status.value,
    }


def create_token(
    session: Session,
    who: Principal,
    name: str,
    scopes: Sequence[str],
    *,
    org: str | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
) -> NewToken:
    """Create a token for ``org`` (None: national) with ``scopes``; return it with its value.

    Nobody can mint a token beyond their own reach: the creator must hold every
    scope at the token's organisation (nationally for a national token).
    """
    label = name.strip()
    if not label or len(label) > 100 or any(ord(c) < 0x20 for c in label):
        msg = "a token needs a name of 1-100 printable characters (what uses it)"
        raise InputError(msg, Location(field="name"))
    wanted = parse_permissions(list(scopes))
    if not timedelta(minutes=1) <= lifetime <= MAX_LIFETIME:
        msg = f"token lifetime must be between a minute and {MAX_LIFETIME.days} days"
        raise InputError(msg, Location(field="expires"))
    code = None
    if org is not None:
        code = org_code(org)
        orgs.get_organisation(session, code)
    for scope in sorted(wanted):
        allowed = who.can(scope, code) if code else who.can_nationally(scope)
        if not allowed:
            where = code or "national level"
            msg = f"{who.actor} cannot give a token {scope} at {where}: it does not hold it there"
            raise PermissionDenied(msg)
    moment = now or utcnow()
    row = TokenRow(
        name=label,
        secret_hash="",
        org_code=code,
        scopes=sorted(wanted),
        created_by=who.actor[:100],
        created_at=moment,
        expires_at=moment + lifetime,
    )
    session.add(row)
    session.flush()
    value = f"{PREFIX}{row.id}_{secrets.token_urlsafe(32)}"
    row.secret_hash = _hash(value)
    session.flush()
    token = _to_domain(row, moment)
    audit.record(
        session, who.as_actor(), "token.create", f"token:{row.id}", org=code, after=_view(token)
    )
    return NewToken(token=token, value=value)


def list_tokens(
    session: Session,
    *,
    org: str | None = None,
    codes: Sequence[str] | None = None,
    include_inactive: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[ApiToken], int]:
    """Return one page of tokens, newest first; ``codes`` confines them to those organisations."""
    query = select(TokenRow)
    if org:
        query = query.where(TokenRow.org_code == org.upper())
    if codes is not None:
        query = query.where(one_of(TokenRow.org_code, codes))
    if not include_inactive:
        query = query.where(TokenRow.revoked_at.is_(None), TokenRow.expires_at > utcnow())
    rows, total = page_of(session, query, TokenRow.id.desc(), limit=limit, offset=offset)
    now = utcnow()
    return [_to_domain(r, now) for r in rows], total


def revoke_token(session: Session, who: Principal, token_id: int) -> ApiToken:
    """Revoke token ``token_id`` at once; revoking it again changes nothing."""
    row = session.get(TokenRow, token_id)
    if row is None or not who.scope.allows(row.org_code):
        msg = f"no token with id {token_id}; list them with `bastion tokens list`"
        raise NotFoundError(msg)
    who.require("users:write", row.org_code)
    before = _to_domain(row)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        after = _to_domain(row)
        audit.record(
            session,
            who.as_actor(),
            "token.revoke",
            f"token:{row.id}",
            org=row.org_code,
            before=_view(before),
            after=_view(after),
        )
        return after
    return before


_T: Table = TokenRow.__table__  # type: ignore[assignment]
# Every request with a token asks: one query on the primary key, no ORM objects.
_FIND = select(
    _T.c.secret_hash,
    _T.c.name,
    _T.c.org_code,
    _T.c.scopes,
    _T.c.expires_at,
    _T.c.revoked_at,
    _T.c.last_used_at,
).where(_T.c.id == bindparam("p_id"))
_USED = update(_T).where(_T.c.id == bindparam("p_id")).values(last_used_at=bindparam("p_at"))


def find_token(
    session: Session, value: str, *, ip: str = "", now: datetime | None = None
) -> Principal | None:
    """Return the principal of an active token ``value``; None when unknown, expired or revoked."""
    if not value.startswith(PREFIX) or len(value) > 200:
        return None
    head, _, _ = value[len(PREFIX) :].partition("_")
    if not head.isdigit() or len(head) > 10:
        return None
    connection = session.connection()
    row = connection.execute(_FIND, {"p_id": int(head)}).first()
    moment = now or utcnow()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(value)):
        return None
    if row.revoked_at is not None or as_utc(row.expires_at) <= moment:
        return None
    if row.last_used_at is None or moment - as_utc(row.last_used_at) > timedelta(minutes=1):
        later(session, _USED, {"p_id": int(head), "p_at": moment})
    return Principal(
        kind=PrincipalKind.TOKEN,
        id=int(head),
        name=row.name,
        token_scopes=frozenset(row.scopes),
        token_org=row.org_code,
        ip=ip,
    )
