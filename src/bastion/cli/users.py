"""`bastion users` and `bastion tokens`: people who sign in, and machines with API tokens.

The command line acts as the operator of the server (``cli:<login>`` in the
audit trail): whoever can run it already holds the database.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.context import actor, command_group, in_session
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, fields, print_record, print_rows
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from bastion.auth import ApiToken, Principal, Role, User
    from bastion.store import Store

users_app = command_group("People who sign in: accounts, roles, organisations, TOTP.")
tokens_app = command_group("API tokens for machines: scoped, expiring, revocable.")
USERNAME = typer.Argument(help="the user's sign-in name")


def operator() -> Principal:
    """Return the principal of this command line."""
    from bastion import auth

    return auth.system_principal(actor().name)


def _membership(value: str) -> tuple[str, Role]:
    from bastion.auth import Role

    code, sep, role = value.partition(":")
    if not sep or not code.strip():
        msg = f"invalid --org {value!r}: write CODE:ROLE, e.g. RAL:org_lead or A81001:org_viewer"
        raise InputError(msg)
    return code.strip().upper(), Role.parse(role)


def _read_password(from_stdin: bool) -> tuple[str, bool]:
    """Return the password (from stdin, or a new random one) and whether it was generated."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return secrets.token_urlsafe(18), True


USER_COLUMNS: list[Column[User]] = [
    *fields("username"),
    ("NATIONAL ROLE", lambda u: u.national_role.value if u.national_role else ""),
    ("ORGANISATIONS", lambda u: " ".join(f"{c}:{r.value}" for c, r in u.memberships)),
    ("TOTP", lambda u: "on" if u.totp_enabled else "off"),
    ("STATE", lambda u: "disabled" if u.disabled else ("locked" if u.locked_until else "active")),
]
TOKEN_COLUMNS: list[Column[ApiToken]] = [
    *fields("id", "name"),
    ("ORG", lambda t: t.org or "national"),
    ("SCOPES", lambda t: " ".join(t.scopes)),
    ("EXPIRES", lambda t: f"{t.expires_at:%Y-%m-%d}"),
    *fields("status"),
]


@users_app.command("add")
def add(
    username: str = typer.Argument(help="the sign-in name: letters, digits and . _ @ -"),
    role: str | None = typer.Option(
        None, "--role", help="a national role: national_admin, national_analyst or auditor"
    ),
    org: list[str] = typer.Option(
        [], "--org", help="CODE:ROLE membership (org_lead or org_viewer); repeat for several"
    ),
    name: str = typer.Option("", "--name", help="the person's name as the console shows it"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from stdin (default: generate one)"
    ),
    totp: bool = typer.Option(
        False, "--totp", help="give a TOTP second factor even when not required"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a user; print the password if generated and the TOTP secret if one was made."""
    from bastion import auth
    from bastion.auth import Role

    national = Role.parse(role) if role else None
    memberships = [_membership(m) for m in org]
    password, generated = _read_password(password_stdin)
    user, enrolled = in_session(
        auth.create_user,
        operator(),
        username,
        password,
        display_name=name,
        national_role=national,
        memberships=memberships,
        totp=totp or None,
    )
    shown = {
        "user": user,
        "password": password if generated else None,
        "totp_secret": enrolled.secret if enrolled else None,
        "otpauth_uri": enrolled.uri if enrolled else None,
    }
    print_record(shown, _created_lines, as_json=as_json)


def _created_lines(shown: dict[str, Any]) -> Iterator[str]:
    yield f"created user {shown['user'].username}"
    if shown["password"] is not None:
        yield f"password: {shown['password']}"
    if shown["totp_secret"] is not None:
        yield f"TOTP secret: {shown['totp_secret']}"
        yield f"otpauth URI: {shown['otpauth_uri']}"


@users_app.command("list")
def list_(
    org: str | None = typer.Option(None, "--org", help="only members of this organisation"),
    search: str | None = typer.Option(None, "--search", help="username contains"),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List users, sorted by username."""
    from bastion import auth

    found, total = in_session(auth.list_users, org=org, search=search)
    print_rows(found, USER_COLUMNS, as_json, as_csv, total=total, noun="users")


@users_app.command("show")
def show(username: str = USERNAME, as_json: bool = JSON_OPTION) -> None:
    """Show one user."""
    from bastion import auth

    user = in_session(auth.get_user, username)
    print_rows([user], USER_COLUMNS, as_json=as_json, data=user)


@users_app.command("grant")
def grant(
    username: str = USERNAME,
    membership: str = typer.Argument(help="CODE:ROLE, e.g. RAL:org_lead"),
) -> None:
    """Make a user a member of an organisation (or change their role there)."""
    from bastion import auth

    code, role = _membership(membership)
    in_session(auth.grant, operator(), username, code, role)
    typer.echo(f"{username} is {role.value} at {code}")


@users_app.command("revoke")
def revoke(username: str = USERNAME, org: str = typer.Argument(help="organisation code")) -> None:
    """Remove a user's membership of an organisation."""
    from bastion import auth

    in_session(auth.revoke_membership, operator(), username, org)
    typer.echo(f"{username} is no longer a member of {org.upper()}")


@users_app.command("role")
def role(
    username: str = USERNAME,
    national_role: str = typer.Argument(help="national_admin, national_analyst, auditor, or none"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Give a user a national role, or take it away (none); a new second factor is printed."""
    from bastion import auth
    from bastion.auth import Role

    wanted = None if national_role.strip().lower() == "none" else Role.parse(national_role)
    user, enrolled = in_session(auth.set_national_role, operator(), username, wanted)
    said = [f"{user.username} is {wanted.value if wanted else 'no longer national'}"]
    if enrolled is not None:
        said.append(f"new TOTP secret (shown once): {enrolled.secret}\n{enrolled.uri}")
    print_record(said, list, as_json=as_json, data={"user": user, "enrolment": enrolled})


@users_app.command("sign-out")
def sign_out(username: str = USERNAME) -> None:
    """End every session of a user, wherever they signed in."""
    from bastion import auth

    ended = in_session(auth.sign_out_user, operator(), username)
    typer.echo(f"signed {username} out of {ended} session{'s' if ended != 1 else ''}")


@users_app.command("disable")
def disable(username: str = USERNAME) -> None:
    """Disable a user and sign them out everywhere."""
    from bastion import auth

    in_session(auth.set_disabled, operator(), username, True)
    typer.echo(f"disabled {username}")


@users_app.command("enable")
def enable(username: str = USERNAME) -> None:
    """Re-enable a disabled (or locked) user."""
    from bastion import auth

    in_session(auth.set_disabled, operator(), username, False)
    typer.echo(f"enabled {username}")


@users_app.command("password")
def password(
    username: str = USERNAME,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read it from stdin"),
) -> None:
    """Set a new password (generated unless read from stdin); unlocks and signs out everywhere."""
    from bastion import auth

    value, generated = _read_password(password_stdin)
    in_session(auth.set_password, operator(), username, value)
    typer.echo(f"password of {username} changed" + (f": {value}" if generated else ""))


@users_app.command("reset-totp")
def reset_totp(username: str = USERNAME, as_json: bool = JSON_OPTION) -> None:
    """Give a user a new TOTP secret (the old one stops working); print it to enrol."""
    from bastion import auth

    enrolled = in_session(auth.reset_totp, operator(), username)
    print_record(
        enrolled,
        lambda e: [f"TOTP secret: {e.secret}", f"otpauth URI: {e.uri}"],
        as_json=as_json,
    )


@users_app.command("require-totp")
def require_totp(
    org: str = typer.Argument(help="organisation code"),
    off: bool = typer.Option(False, "--off", help="stop requiring it"),
) -> None:
    """Require a TOTP second factor of an organisation's members (national roles always need one)."""
    from bastion import auth

    in_session(auth.set_totp_policy, operator(), org, not off)
    typer.echo(f"{org.upper()}: TOTP {'optional' if off else 'required'} for members")


@tokens_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="what uses the token, e.g. 'siem export'"),
    scope: list[str] = typer.Option(
        ..., "--scope", help="a permission such as alerts:read or orgs:write; repeat for several"
    ),
    org: str | None = typer.Option(
        None, "--org", help="bind it to this organisation (default: national)"
    ),
    days: int = typer.Option(90, "--days", min=1, max=366, help="days until it expires"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an API token and print its value, this once (only its hash is kept)."""
    from bastion import auth

    new = in_session(
        auth.create_token, operator(), name, scope, org=org, lifetime=timedelta(days=days)
    )
    print_record(
        new,
        lambda n: [
            f"token {n.token.id} ({n.token.org or 'national'}, {' '.join(n.token.scopes)}), "
            f"expires {n.token.expires_at:%Y-%m-%d}",
            n.value,
        ],
        as_json=as_json,
        data={"token": new.token, "value": new.value},
    )


@tokens_app.command("list")
def tokens_list(
    org: str | None = typer.Option(None, "--org", help="only this organisation's tokens"),
    active: bool = typer.Option(False, "--active", help="only tokens still in use"),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List API tokens, newest first (never their values)."""
    from bastion import auth

    found, total = in_session(auth.list_tokens, org=org, include_inactive=not active)
    print_rows(found, TOKEN_COLUMNS, as_json, as_csv, total=total, noun="tokens")


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: int = typer.Argument(help="the token's id, from `bastion tokens list`"),
) -> None:
    """Revoke an API token at once."""
    from bastion import auth

    token = in_session(auth.revoke_token, operator(), token_id)
    typer.echo(f"token {token.id} ({token.name}) is {token.status.value}")


DEMO_ANALYST = "demo.analyst"
DEMO_LEAD = "demo.lead"
DEMO_ADMIN = "demo.admin"
DEMO_CREDENTIALS = "demo-credentials.txt"


def _demo_org(opened: Store) -> str | None:
    """Pick the organisation the demo lead belongs to: the one with the most recent alert."""
    from bastion.alerts import list_alerts
    from bastion.orgs import list_organisations, organisation_ids

    with opened.session() as session:
        recent, _ = list_alerts(session, limit=20)
        known = organisation_ids(session, [a.org for a in recent if a.org])
        for alert in recent:
            if alert.org in known:
                return alert.org
        found, _ = list_organisations(session, limit=1)
    return found[0].code if found else None


def demo_accounts_once(opened: Store, data_dir: Path) -> list[str]:
    """Create demo national analyst, administrator and organisation lead once; say how to sign in.

    Their passwords are random; the credentials (and the TOTP secrets) are
    written to ``<data_dir>/demo-credentials.txt``, readable by its owner only, and
    printed again by every later run.
    """
    from bastion import auth
    from bastion.auth import Role

    saved = data_dir / DEMO_CREDENTIALS
    if saved.is_file():
        return saved.read_text(encoding="utf-8").splitlines()
    code = _demo_org(opened)
    if code is None:
        return ["demo accounts not created: the federation has no organisations"]
    lines = ["demo accounts (sign in at the console URL below):"]
    with opened.session() as session:
        for username, role, memberships, label in (
            (DEMO_ANALYST, Role.NATIONAL_ANALYST, [], "national analyst"),
            (DEMO_ADMIN, Role.NATIONAL_ADMIN, [], "national administrator"),
            (DEMO_LEAD, None, [(code, Role.ORG_LEAD)], f"security lead of {code}"),
        ):
            password = secrets.token_urlsafe(12)
            _, enrolled = auth.create_user(
                session,
                operator(),
                username,
                password,
                display_name=label.capitalize(),
                national_role=role,
                memberships=memberships,
            )
            lines.append(f"  {label}: username {username}  password {password}")
            if enrolled:
                lines.append(f"    TOTP secret {enrolled.secret}")
                lines.append(f"    otpauth URI {enrolled.uri}")
    saved.write_text("\n".join(lines) + "\n", encoding="utf-8")
    saved.chmod(0o600)
    return lines
