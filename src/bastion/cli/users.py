"""`bastion users` and `bastion tokens`: people who sign in, and machines with API tokens.

The command line acts as the operator of the server (``cli:<login>`` in the
audit trail): whoever can run it already holds the database.
"""

from __future__ import annotations

import secrets
import sys
from datetime import timedelta
from pathlib import Path

import typer

from bastion import auth
from bastion.audit import Actor
from bastion.auth import Principal, Role
from bastion.boundary.alerts import list_alerts
from bastion.cli.context import JSON_OPTION, print_json, print_table, store
from bastion.core.errors import InputError
from bastion.orgs import list_organisations, organisation_ids
from bastion.store import Store

users_app = typer.Typer(
    help="People who sign in: accounts, roles, organisations, TOTP.", no_args_is_help=True
)
tokens_app = typer.Typer(
    help="API tokens for machines: scoped, expiring, revocable.", no_args_is_help=True
)


def operator() -> Principal:
    """Return the principal of this command line."""
    return auth.system_principal(Actor.cli().name)


def _membership(value: str) -> tuple[str, Role]:
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


def _user_row(u: auth.User) -> tuple[str, ...]:
    orgs = " ".join(f"{c}:{r.value}" for c, r in u.memberships)
    state = "disabled" if u.disabled else ("locked" if u.locked_until else "active")
    national = u.national_role.value if u.national_role else ""
    return (u.username, national, orgs, "on" if u.totp_enabled else "off", state)


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
    national = Role.parse(role) if role else None
    memberships = [_membership(m) for m in org]
    password, generated = _read_password(password_stdin)
    with store().session() as session:
        user, enrolled = auth.create_user(
            session,
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
    if as_json:
        print_json(shown)
        return
    typer.echo(f"created user {user.username}")
    if generated:
        typer.echo(f"password: {password}")
    if enrolled:
        typer.echo(f"TOTP secret: {enrolled.secret}")
        typer.echo(f"otpauth URI: {enrolled.uri}")


@users_app.command("list")
def list_(
    org: str | None = typer.Option(None, "--org", help="only members of this organisation"),
    search: str | None = typer.Option(None, "--search", help="username contains"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List users, sorted by username."""
    with store().session() as session:
        found, total = auth.list_users(session, org=org, search=search)
    if as_json:
        print_json(found)
        return
    print_table(
        ["USERNAME", "NATIONAL ROLE", "ORGANISATIONS", "TOTP", "STATE"], map(_user_row, found)
    )
    typer.echo(f"{len(found)} of {total} users", err=True)


@users_app.command("show")
def show(username: str = typer.Argument(), as_json: bool = JSON_OPTION) -> None:
    """Show one user."""
    with store().session() as session:
        user = auth.get_user(session, username)
    if as_json:
        print_json(user)
        return
    print_table(["USERNAME", "NATIONAL ROLE", "ORGANISATIONS", "TOTP", "STATE"], [_user_row(user)])


@users_app.command("grant")
def grant(
    username: str = typer.Argument(),
    membership: str = typer.Argument(help="CODE:ROLE, e.g. RAL:org_lead"),
) -> None:
    """Make a user a member of an organisation (or change their role there)."""
    code, role = _membership(membership)
    with store().session() as session:
        auth.grant(session, operator(), username, code, role)
    typer.echo(f"{username} is {role.value} at {code}")


@users_app.command("revoke")
def revoke(
    username: str = typer.Argument(), org: str = typer.Argument(help="organisation code")
) -> None:
    """Remove a user's membership of an organisation."""
    with store().session() as session:
        auth.revoke_membership(session, operator(), username, org)
    typer.echo(f"{username} is no longer a member of {org.upper()}")


@users_app.command("role")
def role(
    username: str = typer.Argument(),
    national_role: str = typer.Argument(help="national_admin, national_analyst, auditor, or none"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Give a user a national role, or take it away (none); a new second factor is printed."""
    wanted = None if national_role.strip().lower() == "none" else Role.parse(national_role)
    with store().session() as session:
        user, enrolled = auth.set_national_role(session, operator(), username, wanted)
    if as_json:
        print_json({"user": user, "enrolment": enrolled})
        return
    typer.echo(f"{user.username} is {wanted.value if wanted else 'no longer national'}")
    if enrolled is not None:
        typer.echo(f"new TOTP secret (shown once): {enrolled.secret}\n{enrolled.uri}")


@users_app.command("sign-out")
def sign_out(username: str = typer.Argument()) -> None:
    """End every session of a user, wherever they signed in."""
    with store().session() as session:
        ended = auth.sign_out_user(session, operator(), username)
    typer.echo(f"signed {username} out of {ended} session{'s' if ended != 1 else ''}")


@users_app.command("disable")
def disable(username: str = typer.Argument()) -> None:
    """Disable a user and sign them out everywhere."""
    with store().session() as session:
        auth.set_disabled(session, operator(), username, True)
    typer.echo(f"disabled {username}")


@users_app.command("enable")
def enable(username: str = typer.Argument()) -> None:
    """Re-enable a disabled (or locked) user."""
    with store().session() as session:
        auth.set_disabled(session, operator(), username, False)
    typer.echo(f"enabled {username}")


@users_app.command("password")
def password(
    username: str = typer.Argument(),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read it from stdin"),
) -> None:
    """Set a new password (generated unless read from stdin); unlocks and signs out everywhere."""
    value, generated = _read_password(password_stdin)
    with store().session() as session:
        auth.set_password(session, operator(), username, value)
    typer.echo(f"password of {username} changed" + (f": {value}" if generated else ""))


@users_app.command("reset-totp")
def reset_totp(username: str = typer.Argument(), as_json: bool = JSON_OPTION) -> None:
    """Give a user a new TOTP secret (the old one stops working); print it to enrol."""
    with store().session() as session:
        enrolled = auth.reset_totp(session, operator(), username)
    if as_json:
        print_json(enrolled)
        return
    typer.echo(f"TOTP secret: {enrolled.secret}")
    typer.echo(f"otpauth URI: {enrolled.uri}")


@users_app.command("require-totp")
def require_totp(
    org: str = typer.Argument(help="organisation code"),
    off: bool = typer.Option(False, "--off", help="stop requiring it"),
) -> None:
    """Require a TOTP second factor of an organisation's members (national roles always need one)."""
    with store().session() as session:
        auth.set_totp_policy(session, operator(), org, not off)
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
    with store().session() as session:
        new = auth.create_token(
            session, operator(), name, scope, org=org, lifetime=timedelta(days=days)
        )
    if as_json:
        print_json({"token": new.token, "value": new.value})
        return
    typer.echo(
        f"token {new.token.id} ({new.token.org or 'national'}, {' '.join(new.token.scopes)}), "
        f"expires {new.token.expires_at:%Y-%m-%d}"
    )
    typer.echo(new.value)


@tokens_app.command("list")
def tokens_list(
    org: str | None = typer.Option(None, "--org", help="only this organisation's tokens"),
    active: bool = typer.Option(False, "--active", help="only tokens still in use"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List API tokens, newest first (never their values)."""
    with store().session() as session:
        found, total = auth.list_tokens(session, org=org, include_inactive=not active)
    if as_json:
        print_json(found)
        return
    print_table(
        ["ID", "NAME", "ORG", "SCOPES", "EXPIRES", "STATUS"],
        [
            (
                t.id,
                t.name,
                t.org or "national",
                " ".join(t.scopes),
                f"{t.expires_at:%Y-%m-%d}",
                t.status.value,
            )
            for t in found
        ],
    )
    typer.echo(f"{len(found)} of {total} tokens", err=True)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: int = typer.Argument(help="the token's id, from `bastion tokens list`"),
) -> None:
    """Revoke an API token at once."""
    with store().session() as session:
        token = auth.revoke_token(session, operator(), token_id)
    typer.echo(f"token {token.id} ({token.name}) is {token.status.value}")


DEMO_ANALYST = "demo.analyst"
DEMO_LEAD = "demo.lead"
DEMO_CREDENTIALS = "demo-credentials.txt"


def _demo_org(opened: Store) -> str | None:
    """Pick the organisation the demo lead belongs to: the one with the most recent alert."""
    with opened.session() as session:
        recent, _ = list_alerts(session, limit=20)
        known = organisation_ids(session, [a.org for a in recent if a.org])
        for alert in recent:
            if alert.org in known:
                return alert.org
        found, _ = list_organisations(session, limit=1)
    return found[0].code if found else None


def demo_accounts_once(opened: Store, data_dir: Path) -> list[str]:
    """Create a demo national analyst and a demo organisation lead once; say how to sign in.

    Their passwords are random; the credentials (and the analyst's TOTP secret) are
    written to ``<data_dir>/demo-credentials.txt``, readable by its owner only, and
    printed again by every later run.
    """
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
