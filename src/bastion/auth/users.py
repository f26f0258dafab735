"""Local accounts: users, their organisations and roles, passwords and TOTP second factors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit, orgs
from bastion.auth.models import MembershipRow, OrgPolicyRow, SessionRow, UserRow
from bastion.auth.principal import Principal, PrincipalKind
from bastion.auth.roles import MEMBER_ROLES, Role
from bastion.core.errors import ConflictError, InputError, Location, NotFoundError
from bastion.core.records import from_row, must_exist
from bastion.core.timeutil import as_utc, utcnow
from bastion.core.types import org_code
from bastion.store.paging import page_of

# argon2id with the library's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes).
HASHER = PasswordHasher()
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
TOTP_ISSUER = "Bastion"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


@dataclass(frozen=True)
class User:
    """A person who signs in; never carries the password hash or TOTP secret."""

    id: int
    username: str
    display_name: str
    national_role: Role | None
    memberships: tuple[tuple[str, Role], ...]
    totp_enabled: bool
    disabled: bool
    locked_until: datetime | None
    last_sign_in_at: datetime | None
    created_at: datetime

    @property
    def roles(self) -> list[Role]:
        found = [self.national_role] if self.national_role else []
        return found + sorted({r for _, r in self.memberships} - set(found))


@dataclass(frozen=True)
class Enrolment:
    """A new TOTP secret and the otpauth URI an authenticator app scans."""

    secret: str
    uri: str


def _to_domain(row: UserRow) -> User:
    return from_row(
        User,
        row,
        national_role=Role(row.national_role) if row.national_role else None,
        memberships=tuple((m.org_code, Role(m.role)) for m in row.memberships),
        totp_enabled=row.totp_secret is not None,
    )


def public_view(user: User) -> dict[str, Any]:
    """Return what the audit trail keeps of a user (no secrets)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "national_role": user.national_role.value if user.national_role else None,
        "memberships": {code: role.value for code, role in user.memberships},
        "totp_enabled": user.totp_enabled,
        "disabled": user.disabled,
    }


def parse_username(value: str) -> str:
    """Return ``value`` as a username (lower case); raise InputError when it cannot be one."""
    name = value.strip().lower()
    if not _USERNAME.match(name):
        msg = (
            f"invalid username {value!r}: 2-64 characters, letters, digits and . _ @ -, "
            "starting with a letter or digit"
        )
        raise InputError(msg, Location(field="username"))
    return name


def check_password(password: str) -> str:
    """Return ``password`` if strong enough to store; raise InputError saying why not."""
    if len(password) < MIN_PASSWORD:
        msg = f"password too short: at least {MIN_PASSWORD} characters"
        raise InputError(msg, Location(field="password"))
    if len(password) > MAX_PASSWORD:
        msg = f"password too long: at most {MAX_PASSWORD} characters"
        raise InputError(msg, Location(field="password"))
    return password


def _row(session: Session, username: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.username == username.strip().lower()))
    return must_exist(row, f"no user {username!r}; list them with `bastion users list`")


def _membership_role(role: Role) -> Role:
    if role not in MEMBER_ROLES:
        msg = f"role {role.value} is national; an organisation membership is org_lead or org_viewer"
        raise InputError(msg, Location(field="role"))
    return role


def _known_org(session: Session, code: str) -> str:
    normalised = org_code(code)
    orgs.get_organisation(session, normalised)  # raises NotFoundError naming the code
    return normalised


def new_totp() -> str:
    """Return a fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def enrolment(username: str, secret: str) -> Enrolment:
    """Return the otpauth URI of ``secret`` for ``username``."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)
    return Enrolment(secret=secret, uri=uri)


def create_user(
    session: Session,
    who: Principal,
    username: str,
    password: str,
    *,
    display_name: str = "",
    national_role: Role | None = None,
    memberships: Sequence[tuple[str, Role]] = (),
    totp: bool | None = None,
) -> tuple[User, Enrolment | None]:
    """Create a user; a national role always gets a TOTP secret (returned once, to enrol).

    ``totp`` None means: when the role or an organisation's policy requires it.
    """
    name = parse_username(username)
    if session.scalar(select(UserRow.id).where(UserRow.username == name)) is not None:
        msg = f"user {name} already exists"
        raise ConflictError(msg)
    if national_role is not None and not national_role.national:
        msg = f"role {national_role.value} is not national; give it with --org CODE:ROLE"
        raise InputError(msg, Location(field="role"))
    if national_role is None and not memberships:
        msg = "a user needs a national role or at least one organisation membership"
        raise InputError(msg, Location(field="role"))
    row = UserRow(
        username=name,
        display_name=display_name.strip()[:200],
        password_hash=HASHER.hash(check_password(password)),
        national_role=national_role.value if national_role else None,
        disabled=False,
        failed_attempts=0,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    codes = [_known_org(session, c) for c, _ in memberships]
    row.memberships = [
        MembershipRow(org_code=code, role=_membership_role(role).value)
        for code, (_, role) in zip(codes, memberships, strict=True)
    ]
    needs_totp = national_role is not None or any(requires_totp(session, c) for c in codes)
    secret = new_totp() if needs_totp or totp else None
    row.totp_secret = secret
    session.add(row)
    session.flush()
    user = _to_domain(row)
    audit.record(session, who.as_actor(), "user.create", f"user:{name}", after=public_view(user))
    return user, enrolment(name, secret) if secret else None


def get_user(session: Session, username: str) -> User:
    """Return the user ``username``, or raise NotFoundError."""
    return _to_domain(_row(session, username))


USER_SORTS = {
    "username": (UserRow.username,),
    "last_sign_in": (UserRow.last_sign_in_at.desc(), UserRow.username),
    "created": (UserRow.created_at.desc(), UserRow.username),
}


def list_users(
    session: Session,
    *,
    search: str | None = None,
    org: str | None = None,
    sort: str = "username",
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[User], int]:
    """Return one page of users in ``sort`` order (see USER_SORTS), and how many match in all."""
    if sort not in USER_SORTS:
        msg = f"unknown sort {sort!r}; choose one of {', '.join(USER_SORTS)}"
        raise InputError(msg, Location(field="sort"))
    query = select(UserRow)
    if search:
        query = query.where(UserRow.username.like(f"%{search.strip().lower()}%"))
    if org:
        members = select(MembershipRow.user_id).where(MembershipRow.org_code == org.upper())
        query = query.where(UserRow.id.in_(members))
    rows, total = page_of(session, query, *USER_SORTS[sort], limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total


def _change(session: Session, who: Principal, row: UserRow, action: str, apply: Any) -> User:
    before = public_view(_to_domain(row))
    apply(row)
    # Strictly later than before: a cached principal is keyed by it (``session_check``).
    now = utcnow()
    last = as_utc(row.updated_at) if row.updated_at else now
    row.updated_at = max(now, last + timedelta(microseconds=1))
    session.flush()
    session.refresh(row)
    user = _to_domain(row)
    audit.record(
        session,
        who.as_actor(),
        action,
        f"user:{row.username}",
        before=before,
        after=public_view(user),
    )
    return user


def grant(session: Session, who: Principal, username: str, code: str, role: Role) -> User:
    """Make the user a member of organisation ``code`` with ``role`` (replacing any role there)."""
    row = _row(session, username)
    normalised = _known_org(session, code)
    wanted = _membership_role(role).value

    def apply(r: UserRow) -> None:
        for m in r.memberships:
            if m.org_code == normalised:
                m.role = wanted
                return
        r.memberships.append(MembershipRow(org_code=normalised, role=wanted))

    return _change(session, who, row, "user.grant", apply)


def revoke_membership(session: Session, who: Principal, username: str, code: str) -> User:
    """Remove the user's membership of ``code``; their sessions there end with it."""
    row = _row(session, username)
    normalised = org_code(code)
    if not any(m.org_code == normalised for m in row.memberships):
        msg = f"user {row.username} is not a member of {normalised}"
        raise NotFoundError(msg)

    def apply(r: UserRow) -> None:
        r.memberships = [m for m in r.memberships if m.org_code != normalised]

    return _change(session, who, row, "user.revoke", apply)


def set_national_role(
    session: Session, who: Principal, username: str, role: Role | None
) -> tuple[User, Enrolment | None]:
    """Give the user a national role, or take it away (None); audited with before and after.

    A national role needs a second factor: a user without one gets a new TOTP secret,
    returned once to enrol. Taking the role away needs a membership to remain, so
    that nobody is left with no role at all.
    """
    row = _row(session, username)
    if role is not None and not role.national:
        msg = f"role {role.value} is not national; grant it at an organisation instead"
        raise InputError(msg, Location(field="role"))
    if role is None and not row.memberships:
        msg = (
            f"user {row.username} has no organisation: grant one before removing the national role"
        )
        raise InputError(msg, Location(field="role"))
    secret = new_totp() if role is not None and row.totp_secret is None else None

    def apply(r: UserRow) -> None:
        r.national_role = role.value if role else None
        if secret is not None:
            r.totp_secret = secret
            r.totp_last_step = None

    user = _change(session, who, row, "user.national_role", apply)
    if secret is not None:
        end_all_sessions(session, row.id)  # the next sign-in asks for the new second factor
    return user, enrolment(row.username, secret) if secret else None


def sign_out_user(session: Session, who: Principal, username: str) -> int:
    """End every session of the user (an administrator's "sign out everywhere"); audited."""
    row = _row(session, username)
    ended = end_all_sessions(session, row.id)
    audit.record(
        session,
        who.as_actor(),
        "user.sign_out_everywhere",
        f"user:{row.username}",
        before={"sessions": ended},
        after={"sessions": 0},
    )
    return ended


def set_disabled(session: Session, who: Principal, username: str, disabled: bool) -> User:
    """Disable (and sign out everywhere) or re-enable a user."""
    row = _row(session, username)

    def apply(r: UserRow) -> None:
        r.disabled = disabled
        r.failed_attempts = 0
        r.locked_until = None

    user = _change(session, who, row, "user.disable" if disabled else "user.enable", apply)
    if disabled:
        end_all_sessions(session, row.id)
    return user


def set_password(session: Session, who: Principal, username: str, password: str) -> User:
    """Replace the user's password, unlock them, and sign them out everywhere."""
    row = _row(session, username)
    hashed = HASHER.hash(check_password(password))

    def apply(r: UserRow) -> None:
        r.password_hash = hashed
        r.failed_attempts = 0
        r.locked_until = None

    user = _change(session, who, row, "user.password", apply)
    end_all_sessions(session, row.id)
    return user


def reset_totp(session: Session, who: Principal, username: str) -> Enrolment:
    """Give the user a new TOTP secret (the old one stops working) and sign them out everywhere."""
    row = _row(session, username)
    secret = new_totp()

    def apply(r: UserRow) -> None:
        r.totp_secret = secret
        r.totp_last_step = None

    _change(session, who, row, "user.totp_reset", apply)
    end_all_sessions(session, row.id)
    return enrolment(row.username, secret)


def requires_totp(session: Session, code: str) -> bool:
    """Tell whether organisation ``code`` requires a second factor of its members."""
    policy = session.scalar(select(OrgPolicyRow).where(OrgPolicyRow.org_code == code.upper()))
    return bool(policy and policy.require_totp)


def set_totp_policy(session: Session, who: Principal, code: str, required: bool) -> None:
    """Require (or stop requiring) a second factor of ``code``'s members."""
    normalised = _known_org(session, code)
    policy = session.scalar(select(OrgPolicyRow).where(OrgPolicyRow.org_code == normalised))
    before = {"require_totp": bool(policy and policy.require_totp)}
    if policy is None:
        policy = OrgPolicyRow(org_code=normalised, require_totp=required)
        session.add(policy)
    policy.require_totp = required
    session.flush()
    audit.record(
        session,
        who.as_actor(),
        "organisation.totp_policy",
        f"organisation:{normalised}",
        org=normalised,
        before=before,
        after={"require_totp": required},
    )


def end_all_sessions(session: Session, user_id: int) -> int:
    """Sign the user out everywhere; return how many sessions ended."""
    rows = list(session.scalars(select(SessionRow).where(SessionRow.user_id == user_id)))
    for r in rows:
        session.delete(r)
    session.flush()
    return len(rows)


def principal_of(row: UserRow, ip: str = "") -> Principal:
    """Return the principal of a signed-in user."""
    return Principal(
        kind=PrincipalKind.USER,
        id=row.id,
        name=row.username,
        national_role=Role(row.national_role) if row.national_role else None,
        memberships={m.org_code: Role(m.role) for m in row.memberships},
        ip=ip,
    )


def verify_password(row: UserRow | None, password: str) -> bool:
    """Check ``password`` against the row's hash; an unknown user costs the same time."""
    stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
    try:
        HASHER.verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return False
    return row is not None and row.password_hash is not None


_DUMMY_HASH = HASHER.hash("not a password anyone has: it equalises the time of a miss")
