"""Signing in: password then TOTP, lockout after failed attempts, server-side sessions.

A session's cookie value is 256 random bits; the database keeps only its
SHA-256, so a copy of the database signs nobody in. Signing out ends one
session; "sign out everywhere" ends all of a user's sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from bastion import audit
from bastion.auth.models import SessionRow, UserRow
from bastion.auth.principal import Principal, PrincipalKind
from bastion.auth.users import principal_of, requires_totp, verify_password
from bastion.core.errors import BastionError, PermissionDenied
from bastion.core.timeutil import as_utc, utcnow

MAX_FAILURES = 5  # wrong passwords or codes in a row before the account locks
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)  # absolute: sign in again after this
SESSION_IDLE = timedelta(hours=1)  # a session unused this long ends
PENDING_LIFETIME = timedelta(minutes=5)  # between the password and the code
STAGE_TOTP = "totp"
STAGE_FULL = "full"


class SignInFailed(BastionError):
    """The username, password or code is wrong, or the account is locked or disabled."""

    http_status = 401


@dataclass(frozen=True)
class StartedSession:
    """A new session: the cookie value (shown once) and whether a TOTP code must follow."""

    cookie: str
    csrf_token: str
    needs_totp: bool
    user_id: int


@dataclass(frozen=True)
class ActiveSession:
    """A session a request presented, and the user behind it."""

    id: int
    stage: str
    csrf_token: str
    user: UserRow
    principal: Principal


def session_hash(value: str) -> str:
    """Return what the database keeps of a session cookie: its SHA-256, in hex."""
    return hashlib.sha256(value.encode()).hexdigest()


def _fail(session: Session, row: UserRow, now: datetime, who: Principal, why: str) -> None:
    row.failed_attempts += 1
    if row.failed_attempts >= MAX_FAILURES:
        row.locked_until = now + LOCKOUT
        row.failed_attempts = 0
        audit.record(
            session, who.as_actor(), "user.locked", f"user:{row.username}", after={"reason": why}
        )
    session.flush()


def _locked(row: UserRow, now: datetime) -> bool:
    return row.locked_until is not None and as_utc(row.locked_until) > now


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> StartedSession:
    """Check a username and password; start a session (pending its TOTP code when it has one).

    Every failure says the same thing, so the answer does not tell which usernames exist.
    The failed attempt is kept (commit even when this raises) so lockout counts it.
    """
    moment = now or utcnow()
    row = _user_named(session, username)
    good = verify_password(row, password)
    wrong = SignInFailed("wrong username or password, or the account is locked")
    if row is None:
        raise wrong
    who = principal_of(row, ip)
    if row.disabled or _locked(row, moment):
        raise wrong
    if not good:
        _fail(session, row, moment, who, "password")
        raise wrong
    if row.totp_secret is None and _needs_second_factor(session, row):
        msg = "this account needs a second factor: ask an administrator to enrol one"
        raise SignInFailed(msg)
    needs_totp = row.totp_secret is not None
    if not needs_totp:
        _signed_in(session, row, moment, who)
    return _start(session, row, STAGE_TOTP if needs_totp else STAGE_FULL, ip, user_agent, moment)


def _user_named(session: Session, username: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.username == username.strip().lower()))


def _needs_second_factor(session: Session, row: UserRow) -> bool:
    """Tell whether the user must sign in with a second factor: national users always do,
    members when one of their organisations requires it."""
    return bool(row.national_role) or any(
        requires_totp(session, m.org_code) for m in row.memberships
    )


def _signed_in(session: Session, row: UserRow, moment: datetime, who: Principal) -> None:
    row.failed_attempts = 0
    row.locked_until = None
    row.last_sign_in_at = moment
    audit.record(session, who.as_actor(), "user.sign_in", f"user:{row.username}")


def _start(
    session: Session, row: UserRow, stage: str, ip: str, user_agent: str, moment: datetime
) -> StartedSession:
    # Forget the user's sessions that are over, so the table does not grow without bound.
    session.execute(
        delete(SessionRow).where(SessionRow.user_id == row.id, SessionRow.expires_at < moment)
    )
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    lifetime = PENDING_LIFETIME if stage == STAGE_TOTP else SESSION_LIFETIME
    session.add(
        SessionRow(
            token_hash=session_hash(cookie),
            user_id=row.id,
            stage=stage,
            csrf_token=csrf,
            ip=ip[:64],
            user_agent=user_agent[:200],
            created_at=moment,
            last_seen_at=moment,
            expires_at=moment + lifetime,
        )
    )
    session.flush()
    return StartedSession(
        cookie=cookie, csrf_token=csrf, needs_totp=stage == STAGE_TOTP, user_id=row.id
    )


def find_session(
    session: Session, cookie: str, *, ip: str = "", now: datetime | None = None
) -> ActiveSession | None:
    """Return the live session of ``cookie``, touching its last use; None when absent or over."""
    if not cookie or len(cookie) > 128:
        return None
    moment = now or utcnow()
    # Every request asks: the session with its user in one query, the user's memberships
    # in a second (joined, a member of 100 organisations would repeat the rest 100 times).
    found = session.execute(
        select(SessionRow, UserRow)
        .outerjoin(UserRow, UserRow.id == SessionRow.user_id)
        .where(SessionRow.token_hash == session_hash(cookie))
        .options(selectinload(UserRow.memberships))
    ).first()
    if found is None:
        return None
    row, user = found
    idle_over = row.stage == STAGE_FULL and as_utc(row.last_seen_at) + SESSION_IDLE < moment
    if user is None or user.disabled or as_utc(row.expires_at) < moment or idle_over:
        session.delete(row)
        session.flush()
        return None
    if moment - as_utc(row.last_seen_at) > timedelta(minutes=1):
        row.last_seen_at = moment  # written at most once a minute, not on every request
    return ActiveSession(
        id=row.id,
        stage=row.stage,
        csrf_token=row.csrf_token,
        user=user,
        principal=principal_of(user, ip),
    )


def _totp_step(secret: str, code: str, moment: datetime) -> int | None:
    """Return the time step ``code`` is valid for (now or one step either side), else None."""
    digits = code.strip().replace(" ", "")
    if not (digits.isdigit() and len(digits) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step = int(moment.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), digits):
            return candidate
    return None


def complete_totp(
    session: Session,
    cookie: str,
    code: str,
    *,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> StartedSession:
    """Check the TOTP code of a pending session; replace it with a full session.

    A code is accepted once: the step it belongs to is remembered, so a code seen
    over a shoulder cannot be replayed. The session id changes on success.
    """
    moment = now or utcnow()
    pending = find_session(session, cookie, ip=ip, now=moment)
    wrong = SignInFailed("wrong or expired code; sign in again if this keeps happening")
    if pending is None or pending.stage != STAGE_TOTP:
        raise wrong
    row = pending.user
    if _locked(row, moment) or row.totp_secret is None:
        raise wrong
    step = _totp_step(row.totp_secret, code, moment)
    if step is None or (row.totp_last_step is not None and step <= row.totp_last_step):
        _fail(session, row, moment, pending.principal, "totp")
        raise wrong
    row.totp_last_step = step
    session.execute(delete(SessionRow).where(SessionRow.id == pending.id))
    _signed_in(session, row, moment, pending.principal)
    return _start(session, row, STAGE_FULL, ip, user_agent, moment)


def sign_out(session: Session, cookie: str, who: Principal | None = None) -> None:
    """End the session of ``cookie`` (nothing happens when there is none)."""
    session.execute(delete(SessionRow).where(SessionRow.token_hash == session_hash(cookie)))
    if who is not None:
        audit.record(session, who.as_actor(), "user.sign_out", f"user:{who.name}")


def sign_out_everywhere(session: Session, who: Principal) -> int:
    """End every session of the signed-in user; return how many ended."""
    if who.kind is not PrincipalKind.USER:
        msg = f"{who.actor} is not a person: it has no sessions to end"
        raise PermissionDenied(msg)
    result = session.execute(delete(SessionRow).where(SessionRow.user_id == who.id))
    audit.record(session, who.as_actor(), "user.sign_out_everywhere", f"user:{who.name}")
    return int(getattr(result, "rowcount", 0) or 0)


def totp_now(secret: str, now: datetime | None = None) -> str:
    """Return the code an authenticator shows for ``secret`` (tests and the demo use it)."""
    return pyotp.TOTP(secret).at(now or utcnow())


def sign_in_external(
    session: Session,
    username: str,
    *,
    mfa: bool,
    provider: str,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> StartedSession:
    """Start a session for a person an identity provider vouched for (OpenID Connect).

    The person must already have a Bastion account (roles and organisations are
    Bastion's, never the provider's). When a second factor is required and the
    provider did not assert one (``mfa``), the session waits for the account's
    TOTP code, as after a password.
    """
    moment = now or utcnow()
    row = _user_named(session, username)
    if row is None or row.disabled or _locked(row, moment):
        msg = f"{provider} signed in {username!r}, who has no active Bastion account"
        raise SignInFailed(msg)
    who = principal_of(row, ip)
    if _needs_second_factor(session, row) and not mfa and row.totp_secret is None:
        msg = "this account needs a second factor: the identity provider asserted none"
        raise SignInFailed(msg)
    stage = STAGE_TOTP if (not mfa and row.totp_secret is not None) else STAGE_FULL
    if stage == STAGE_FULL:
        _signed_in(session, row, moment, who)
    return _start(session, row, stage, ip, user_agent, moment)
