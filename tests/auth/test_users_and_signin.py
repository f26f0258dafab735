"""Accounts and signing in: argon2id at rest, TOTP once per step, lockout, session lifetimes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import Type
from sqlalchemy import select

from bastion import audit, auth
from bastion.auth import Role, SignInFailed
from bastion.auth import users as auth_users
from bastion.auth.models import SessionRow, UserRow
from bastion.auth.signin import LOCKOUT, MAX_FAILURES, SESSION_IDLE, SESSION_LIFETIME
from bastion.core.errors import ConflictError, InputError, NotFoundError
from bastion.core.timeutil import utcnow
from bastion.store import Store

OPERATOR = auth.system_principal("test")
PASSWORD = "a long enough passphrase"


def add(
    store: Store, name: str, role: Role | None = None, orgs: tuple[tuple[str, Role], ...] = ()
) -> str | None:
    with store.session() as session:
        _, enrolled = auth.create_user(
            session, OPERATOR, name, PASSWORD, national_role=role, memberships=orgs
        )
    return enrolled.secret if enrolled else None


def test_production_hasher_is_argon2id_with_rfc9106_memory() -> None:
    # The tests patch a cheap hasher in; the real one must stay argon2id at 64 MiB.
    import importlib

    fresh = importlib.reload(auth_users)
    assert fresh.HASHER.type is Type.ID
    assert fresh.HASHER.memory_cost >= 65536


def test_password_is_stored_as_an_argon2id_hash_only(federation: Store) -> None:
    add(federation, "alice", orgs=(("RAL", Role.ORG_VIEWER),))
    with federation.session() as session:
        row = session.scalar(select(UserRow).where(UserRow.username == "alice"))
        assert row is not None
        assert row.password_hash is not None
        assert row.password_hash.startswith("$argon2id$")
        assert PASSWORD not in row.password_hash


def test_national_roles_always_get_totp_members_only_by_policy(federation: Store) -> None:
    assert add(federation, "nat", Role.NATIONAL_ANALYST) is not None
    assert add(federation, "member", orgs=(("RAL", Role.ORG_LEAD),)) is None
    with federation.session() as session:
        auth.set_totp_policy(session, OPERATOR, "RJ1", True)
    assert add(federation, "strict", orgs=(("RJ1", Role.ORG_VIEWER),)) is not None


def test_bad_accounts_are_refused_with_reasons(federation: Store) -> None:
    with federation.session() as session:
        with pytest.raises(InputError, match="too short"):
            auth.create_user(session, OPERATOR, "bob", "short", national_role=Role.AUDITOR)
        with pytest.raises(InputError, match="invalid username"):
            auth.create_user(session, OPERATOR, "x y", PASSWORD, national_role=Role.AUDITOR)
        with pytest.raises(InputError, match="national role or at least one"):
            auth.create_user(session, OPERATOR, "nobody", PASSWORD)
        with pytest.raises(InputError, match="is national"):
            auth.create_user(
                session, OPERATOR, "odd", PASSWORD, memberships=[("RAL", Role.AUDITOR)]
            )
        with pytest.raises(NotFoundError, match="ZZZ"):
            auth.create_user(
                session, OPERATOR, "lost", PASSWORD, memberships=[("ZZZ", Role.ORG_LEAD)]
            )
    add(federation, "dup", Role.AUDITOR)
    with federation.session() as session, pytest.raises(ConflictError):
        auth.create_user(session, OPERATOR, "DUP", PASSWORD, national_role=Role.AUDITOR)


def test_sign_in_needs_the_password_then_the_totp_code_once(federation: Store) -> None:
    secret = add(federation, "nat", Role.NATIONAL_ADMIN)
    assert secret
    now = utcnow()
    with federation.session() as session:
        started = auth.sign_in(session, "NAT", PASSWORD, now=now)
        assert started.needs_totp
        pending = auth.find_session(session, started.cookie, now=now)
        assert pending is not None
        assert pending.stage == "totp"
        code = auth.totp_now(secret, now)
        full = auth.complete_totp(session, started.cookie, code, now=now)
        assert full.cookie != started.cookie  # the session id changes at sign-in
        assert auth.find_session(session, started.cookie, now=now) is None
        active = auth.find_session(session, full.cookie, now=now)
        assert active is not None
        assert active.stage == "full"
        assert active.principal.scope.national
    # The same code again (a second pending session) is a replay: refused.
    with federation.session() as session:
        again = auth.sign_in(session, "nat", PASSWORD, now=now)
        with pytest.raises(SignInFailed):
            auth.complete_totp(session, again.cookie, code, now=now)


def test_wrong_password_and_unknown_user_say_the_same(federation: Store) -> None:
    add(federation, "alice", orgs=(("RAL", Role.ORG_VIEWER),))
    with federation.session() as session:
        with pytest.raises(SignInFailed) as wrong:
            auth.sign_in(session, "alice", "not the password at all")
        with pytest.raises(SignInFailed) as unknown:
            auth.sign_in(session, "mallory", "not the password at all")
    assert str(wrong.value) == str(unknown.value)


def test_lockout_after_failures_refuses_even_the_right_password(federation: Store) -> None:
    add(federation, "alice", orgs=(("RAL", Role.ORG_VIEWER),))
    now = utcnow()
    for _ in range(MAX_FAILURES):
        with federation.session() as session:
            with pytest.raises(SignInFailed):
                auth.sign_in(session, "alice", "wrong wrong wrong", now=now)
            session.commit()
    with federation.session() as session:
        with pytest.raises(SignInFailed):
            auth.sign_in(session, "alice", PASSWORD, now=now + timedelta(minutes=1))
        later = auth.sign_in(session, "alice", PASSWORD, now=now + LOCKOUT + timedelta(seconds=1))
    assert not later.needs_totp
    with federation.session() as session:
        locked, _ = audit.list_events(session, action="user.locked")
    assert [e.target for e in locked] == ["user:alice"]


def test_sessions_end_when_idle_or_old_and_on_password_change(federation: Store) -> None:
    add(federation, "alice", orgs=(("RAL", Role.ORG_LEAD),))
    now = utcnow()
    with federation.session() as session:
        idle = auth.sign_in(session, "alice", PASSWORD, now=now)
        assert (
            auth.find_session(session, idle.cookie, now=now + SESSION_IDLE + timedelta(minutes=1))
            is None
        )
        busy = auth.sign_in(session, "alice", PASSWORD, now=now)
        step = now
        while step < now + SESSION_LIFETIME - timedelta(minutes=30):
            step += timedelta(minutes=50)
            assert auth.find_session(session, busy.cookie, now=step) is not None
        assert (
            auth.find_session(
                session, busy.cookie, now=now + SESSION_LIFETIME + timedelta(minutes=1)
            )
            is None
        )
        kept = auth.sign_in(session, "alice", PASSWORD, now=utcnow())
        auth.set_password(session, OPERATOR, "alice", "another long passphrase")
        assert auth.find_session(session, kept.cookie) is None


def test_sign_out_everywhere_ends_every_session_of_that_user_only(federation: Store) -> None:
    add(federation, "alice", orgs=(("RAL", Role.ORG_LEAD),))
    add(federation, "bob", orgs=(("RAL", Role.ORG_LEAD),))
    with federation.session() as session:
        first = auth.sign_in(session, "alice", PASSWORD)
        second = auth.sign_in(session, "alice", PASSWORD)
        bobs = auth.sign_in(session, "bob", PASSWORD)
        active = auth.find_session(session, first.cookie)
        assert active is not None
        assert auth.sign_out_everywhere(session, active.principal) == 2
        assert auth.find_session(session, second.cookie) is None
        assert auth.find_session(session, bobs.cookie) is not None
        left = session.scalars(select(SessionRow.user_id)).all()
    assert len(left) == 1


def test_disabled_users_cannot_sign_in_and_lose_their_sessions(federation: Store) -> None:
    add(federation, "alice", orgs=(("RAL", Role.ORG_LEAD),))
    with federation.session() as session:
        started = auth.sign_in(session, "alice", PASSWORD)
        auth.set_disabled(session, OPERATOR, "alice", True)
        assert auth.find_session(session, started.cookie) is None
        with pytest.raises(SignInFailed):
            auth.sign_in(session, "alice", PASSWORD)


def test_memberships_give_a_scope_and_roles_per_organisation(federation: Store) -> None:
    add(federation, "shared", orgs=(("RAL", Role.ORG_VIEWER), ("RJ1", Role.ORG_LEAD)))
    with federation.session() as session:
        started = auth.sign_in(session, "shared", PASSWORD)
        active = auth.find_session(session, started.cookie)
    assert active is not None
    who = active.principal
    assert who.scope.codes == ["RAL", "RJ1"]
    assert who.can("alerts:write", "RJ1")
    assert not who.can("alerts:write", "RAL")
    assert not who.can("orgs:read", "A81001")
    assert not who.can_nationally("orgs:read")
    with federation.session() as session:
        auth.revoke_membership(session, OPERATOR, "shared", "RJ1")
        assert auth.get_user(session, "shared").memberships == (("RAL", Role.ORG_VIEWER),)


def test_member_without_totp_cannot_sign_in_once_the_organisation_requires_it(
    federation: Store,
) -> None:
    add(federation, "alice", orgs=(("RAL", Role.ORG_LEAD),))
    with federation.session() as session:
        auth.set_totp_policy(session, OPERATOR, "RAL", True)
        with pytest.raises(SignInFailed, match="second factor"):
            auth.sign_in(session, "alice", PASSWORD)
        enrolled = auth.reset_totp(session, OPERATOR, "alice")
        assert enrolled.uri.startswith("otpauth://totp/Bastion:alice?")
        assert auth.sign_in(session, "alice", PASSWORD).needs_totp


def test_a_new_sign_in_forgets_the_users_expired_sessions(federation: Store) -> None:
    add(federation, "alice", orgs=(("RAL", Role.ORG_LEAD),))
    now = utcnow()
    with federation.session() as session:
        auth.sign_in(session, "alice", PASSWORD, now=now)
        auth.sign_in(session, "alice", PASSWORD, now=now)
        assert len(session.scalars(select(SessionRow.id)).all()) == 2
        auth.sign_in(session, "alice", PASSWORD, now=now + SESSION_LIFETIME + timedelta(minutes=1))
        assert len(session.scalars(select(SessionRow.id)).all()) == 1
