"""`bastion users`, `bastion tokens`, `bastion audit`, and the demo accounts of `init --demo`."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from bastion import auth
from bastion.audit import Actor
from bastion.cli.users import DEMO_CREDENTIALS, demo_accounts_once
from bastion.store import Store

Run = Callable[..., Result]


@pytest.fixture
def ready(bastion: Run) -> Run:
    assert bastion("init").exit_code == 0
    assert bastion("orgs", "add", "RAL", "Royal Free", "--type", "trust").exit_code == 0
    assert bastion("orgs", "add", "RJ1", "Guy's", "--type", "trust").exit_code == 0
    return bastion


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_users_add_list_show_grant_revoke_with_json(ready: Run) -> None:
    made = json.loads(ok(ready("users", "add", "ann", "--role", "national_analyst", "--json")))
    assert made["user"]["national_role"] == "national_analyst"
    assert len(made["password"]) >= 12
    assert made["otpauth_uri"].startswith("otpauth://totp/Bastion:ann?secret=")
    member = ok(ready("users", "add", "bob", "--org", "ral:org_viewer", "--name", "Bob"))
    assert "created user bob" in member
    assert "TOTP" not in member
    ok(ready("users", "grant", "bob", "RJ1:org_lead"))
    listed = json.loads(ok(ready("users", "list", "--json")))
    assert [u["username"] for u in listed] == ["ann", "bob"]
    bob = json.loads(ok(ready("users", "show", "bob", "--json")))
    assert bob["memberships"] == [["RAL", "org_viewer"], ["RJ1", "org_lead"]]
    ok(ready("users", "revoke", "bob", "RJ1"))
    assert "RJ1" not in ok(ready("users", "list", "--org", "RAL"))


def test_users_errors_are_one_line(ready: Run) -> None:
    bad_role = ready("users", "add", "x1", "--role", "boss")
    assert bad_role.exit_code != 0
    assert "unknown role 'boss'" in bad_role.stderr
    bad_org = ready("users", "add", "x2", "--org", "RAL")
    assert "write CODE:ROLE" in bad_org.stderr
    missing = ready("users", "show", "nobody")
    assert missing.exit_code != 0
    assert "no user 'nobody'" in missing.stderr


def test_password_from_stdin_disable_enable_and_reset_totp(ready: Run) -> None:
    ok(
        ready(
            "users",
            "add",
            "cat",
            "--org",
            "RAL:org_lead",
            "--password-stdin",
            input="a passphrase from stdin\n",
        )
    )
    ok(ready("users", "disable", "cat"))
    assert "disabled" in ok(ready("users", "list"))
    ok(ready("users", "enable", "cat"))
    assert "TOTP secret" in ok(ready("users", "reset-totp", "cat"))
    ok(ready("users", "require-totp", "RAL"))
    ok(ready("users", "password", "cat", "--password-stdin", input="another passphrase here\n"))


def test_national_role_and_sign_out_from_the_command_line(ready: Run) -> None:
    ok(ready("users", "add", "dan", "--org", "RAL:org_viewer", "--password-stdin", input="x" * 14))
    made = json.loads(ok(ready("users", "role", "dan", "auditor", "--json")))
    assert made["user"]["national_role"] == "auditor"
    assert made["enrolment"]["uri"].startswith("otpauth://totp/Bastion:dan?secret=")
    assert "no longer national" in ok(ready("users", "role", "dan", "none"))
    assert "signed dan out of 0 sessions" in ok(ready("users", "sign-out", "dan"))
    ok(ready("users", "revoke", "dan", "RAL"))
    stranded = ready("users", "role", "ann", "none")  # ann does not exist
    assert stranded.exit_code != 0
    assert "no user 'ann'" in stranded.stderr
    national_only = ready("users", "role", "dan", "org_lead")
    assert national_only.exit_code != 0
    assert "not national" in national_only.stderr
    trail = json.loads(ok(ready("audit", "list", "--action", "user.", "--json")))
    actions = [e["action"] for e in reversed(trail)]
    assert actions[-4:] == [
        "user.national_role",
        "user.national_role",
        "user.sign_out_everywhere",
        "user.revoke",
    ]


def test_tokens_create_list_revoke(ready: Run) -> None:
    made = json.loads(
        ok(
            ready(
                "tokens",
                "create",
                "--name",
                "siem",
                "--scope",
                "alerts:read",
                "--org",
                "RAL",
                "--days",
                "7",
                "--json",
            )
        )
    )
    assert made["value"].startswith("bst_")
    listed = json.loads(ok(ready("tokens", "list", "--json")))
    assert [t["status"] for t in listed] == ["active"]
    assert made["value"] not in json.dumps(listed)
    ok(ready("tokens", "revoke", str(made["token"]["id"])))
    assert json.loads(ok(ready("tokens", "list", "--active", "--json"))) == []
    bad = ready("tokens", "create", "--name", "x", "--scope", "everything")
    assert "unknown scope" in bad.stderr


def test_audit_list_and_export(ready: Run, tmp_path: Path) -> None:
    ok(ready("users", "add", "dee", "--org", "RAL:org_viewer"))
    events = json.loads(ok(ready("audit", "list", "--json")))
    assert events[0]["action"] == "user.create"
    assert events[0]["actor"] == f"cli:{getpass.getuser()}"
    out = tmp_path / "audit.json"
    ready("audit", "export", "--format", "json", "--output", str(out))
    assert json.loads(out.read_text())[-1]["target"] == "user:dee"  # oldest first
    assert "unknown export format" in ready("audit", "export", "--format", "xml").stderr


def test_demo_accounts_are_created_once_and_printed_every_time(
    sqlite_store: Store, tmp_path: Path
) -> None:
    from bastion import orgs

    with sqlite_store.session() as session:
        orgs.save_organisation(
            session,
            orgs.Organisation("RAL", "Royal Free", orgs.OrgType.TRUST),
            actor=Actor.cli("test"),
        )
    first = demo_accounts_once(sqlite_store, tmp_path)
    again = demo_accounts_once(sqlite_store, tmp_path)
    assert first == again
    text = "\n".join(first)
    assert "username demo.analyst" in text
    assert "username demo.lead" in text
    assert "security lead of RAL" in text
    assert "otpauth://totp/Bastion:demo.analyst" in text
    assert "national administrator: username demo.admin" in text
    assert "otpauth://totp/Bastion:demo.admin" in text
    assert (tmp_path / DEMO_CREDENTIALS).stat().st_mode & 0o077 == 0
    password = text.split("username demo.lead  password ")[1].split()[0]
    with sqlite_store.session() as session:
        users, _ = auth.list_users(session)
        assert [u.username for u in users] == ["demo.admin", "demo.analyst", "demo.lead"]
        assert not auth.sign_in(session, "demo.lead", password).needs_totp
        admin = text.split("username demo.admin  password ")[1].split()[0]
        assert auth.sign_in(session, "demo.admin", admin).needs_totp
        assert auth.get_user(session, "demo.admin").national_role == auth.Role.NATIONAL_ADMIN
