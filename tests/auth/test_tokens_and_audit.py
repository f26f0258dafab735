"""API tokens (hashed, scoped, bound, expiring, revocable) and the append-only audit trail."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bastion import audit, auth
from bastion.auth import Role, Scope
from bastion.auth.models import TokenRow
from bastion.core.errors import InputError, NotFoundError, PermissionDenied
from bastion.core.timeutil import utcnow
from bastion.store import Store

OPERATOR = auth.system_principal("test")


def test_token_is_shown_once_and_kept_only_as_a_hash(federation: Store) -> None:
    with federation.session() as session:
        new = auth.create_token(session, OPERATOR, "siem", ["alerts:read"], org="ral")
    assert new.value.startswith(f"bst_{new.token.id}_")
    with federation.session() as session:
        row = session.get(TokenRow, new.token.id)
        assert row is not None
        stored = " ".join(str(v) for v in (row.secret_hash, row.name, row.scopes))
        assert new.value not in stored
        # The secret is URL-safe base64 and may itself hold "_": cut it off as the parser does.
        secret = new.value.removeprefix(f"bst_{new.token.id}_")
        assert len(secret) >= 40 and secret not in stored
        who = auth.find_token(session, new.value)
    assert who is not None
    assert who.scope == Scope.of(["RAL"])
    assert who.can("alerts:read")
    assert not who.can("alerts:write")
    assert not who.can("alerts:read", "RJ1")


def test_wrong_expired_and_revoked_tokens_sign_nobody_in(federation: Store) -> None:
    with federation.session() as session:
        new = auth.create_token(
            session, OPERATOR, "short", ["orgs:read"], lifetime=timedelta(minutes=5)
        )
        assert auth.find_token(session, new.value + "x") is None
        assert auth.find_token(session, "bst_99_nothing") is None
        assert auth.find_token(session, new.value, now=utcnow() + timedelta(minutes=6)) is None
        assert auth.find_token(session, new.value) is not None
        revoked = auth.revoke_token(session, OPERATOR, new.token.id)
        assert revoked.status is auth.TokenStatus.REVOKED
        assert auth.find_token(session, new.value) is None


def test_nobody_mints_a_token_beyond_their_own_reach(federation: Store) -> None:
    with federation.session() as session:
        auth.create_user(
            session,
            OPERATOR,
            "lead",
            "a long enough passphrase",
            memberships=[("RAL", Role.ORG_LEAD)],
        )
        lead = auth.find_session(
            session, auth.sign_in(session, "lead", "a long enough passphrase").cookie
        )
        assert lead is not None
        with pytest.raises(PermissionDenied, match="national level"):
            auth.create_token(session, lead.principal, "mine", ["alerts:read"])
        with pytest.raises(PermissionDenied, match="RJ1"):
            auth.create_token(session, lead.principal, "theirs", ["alerts:read"], org="RJ1")
        with pytest.raises(PermissionDenied, match="users:write"):
            auth.create_token(session, lead.principal, "admin", ["users:write"], org="RAL")
        own = auth.create_token(session, lead.principal, "ours", ["alerts:read"], org="RAL")
        assert own.token.org == "RAL"
        with pytest.raises(InputError, match="unknown scope"):
            auth.create_token(session, OPERATOR, "typo", ["alert:read"])
        with pytest.raises(InputError, match="lifetime"):
            auth.create_token(
                session, OPERATOR, "long", ["alerts:read"], lifetime=timedelta(days=400)
            )
        other = auth.create_token(session, OPERATOR, "rj1", ["alerts:read"], org="RJ1")
        # Another tenant's token id is not found, as an absent one.
        with pytest.raises(NotFoundError):
            auth.revoke_token(session, lead.principal, other.token.id)


def changes(session: Session) -> tuple[list[audit.AuditEvent], int]:
    """Return the trail without the fixture's own organisations, newest first, and its size."""
    events, _ = audit.list_events(session)
    mine = [e for e in events if e.action != "organisation.create"]
    return mine, len(mine)


def test_every_change_is_audited_with_before_and_after(federation: Store) -> None:
    with federation.session() as session:
        auth.create_user(
            session,
            OPERATOR,
            "alice",
            "a long enough passphrase",
            memberships=[("RAL", Role.ORG_VIEWER)],
        )
        auth.grant(session, OPERATOR, "alice", "RAL", Role.ORG_LEAD)
        made = auth.create_token(session, OPERATOR, "feed", ["alerts:read"], org="RAL")
        auth.revoke_token(session, OPERATOR, made.token.id)
    with federation.session() as session:
        events, total = changes(session)
    assert total == 4
    by_action = {e.action: e for e in events}
    assert set(by_action) == {"user.create", "user.grant", "token.create", "token.revoke"}
    grant = by_action["user.grant"]
    assert grant.actor == "cli:test"
    assert grant.before
    assert grant.before["memberships"] == {"RAL": "org_viewer"}
    assert grant.after
    assert grant.after["memberships"] == {"RAL": "org_lead"}
    assert by_action["token.revoke"].org == "RAL"
    assert "secret" not in json.dumps([e.after for e in events])


def test_audit_trail_refuses_updates_and_deletes_in_the_database(federation: Store) -> None:
    with federation.session() as session:
        auth.set_totp_policy(session, OPERATOR, "RAL", True)
    for statement in ("UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), federation.engine.begin() as conn:
            conn.execute(text(statement))
    with federation.session() as session:
        events, _ = changes(session)
    assert [e.actor for e in events] == ["cli:test"]


def test_exports_are_oldest_first_and_csv_defuses_formulas(federation: Store) -> None:
    with federation.session() as session:
        auth.create_token(session, OPERATOR, '=HYPERLINK("http://x")', ["alerts:read"])
        auth.set_totp_policy(session, OPERATOR, "RAL", True)
        events, _ = changes(session)
    rows = list(csv.DictReader(io.StringIO(audit.export_csv(events))))
    assert [r["action"] for r in rows] == ["token.create", "organisation.totp_policy"]
    assert json.loads(rows[0]["after"])["name"].startswith("=HYPERLINK")  # JSON cell, quoted
    assert not any(cell.startswith("=") for r in rows for cell in r.values())
    as_json = json.loads(audit.export_json(events))
    assert [e["action"] for e in as_json] == ["token.create", "organisation.totp_policy"]


def test_scope_allows_only_its_codes() -> None:
    member = Scope.of(["ral", "RJ1"])
    assert member.allows("RAL")
    assert member.allows("rj1")
    assert not member.allows("A81001")
    assert not member.allows(None)
    assert member.codes == ["RAL", "RJ1"]
    assert Scope.of([]).codes == []
    assert not Scope.of([]).allows("RAL")
    assert Scope.everything().codes is None
    assert Scope.everything().allows(None)


def test_listing_tokens_can_be_confined_to_organisations(federation: Store) -> None:
    with federation.session() as session:
        auth.create_token(session, OPERATOR, "a", ["alerts:read"], org="RAL")
        auth.create_token(session, OPERATOR, "b", ["alerts:read"], org="RJ1")
        auth.create_token(session, OPERATOR, "n", ["alerts:read"])
        mine, total = auth.list_tokens(session, codes=["RAL"])
        every, _ = auth.list_tokens(session)
    assert [t.name for t in mine] == ["a"]
    assert total == 1
    assert len(every) == 3
