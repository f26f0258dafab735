"""`bastion passwords`: the breached-password store, checks, audits of directories, counts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.context import command_group, in_session, settings
from bastion.cli.output import JSON_OPTION, Column, fields, print_record, print_rows
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from bastion.passwords import BuildResult, CheckCount

app = command_group("Compromised passwords: the breached store, checks, directory audits, counts.")

FILES_ARGUMENT = typer.Argument(
    ..., help="plain password lists, HIBP downloader files (HASH:COUNT) or per-prefix folders"
)
FORMAT_OPTION = typer.Option(
    None, "--format", help="hibp or plain (default: told from the content)"
)
SKIP_OPTION = typer.Option(0, "--skip-lines", min=0, help="lines to skip at the top of each file")


def _build(files: list[Path], fmt: str | None, skip: int, *, update: bool, as_json: bool) -> None:
    from bastion import passwords

    if fmt not in {None, "hibp", "plain"}:
        msg = f"unknown format {fmt!r}; choose hibp or plain"
        raise InputError(msg)
    sources = [passwords.source(f, fmt, skip_lines=skip) for f in files]  # type: ignore[arg-type]
    result = passwords.Builder(settings().passwords_dir, sources, update=update).run()
    print_record(result, _build_lines, as_json=as_json, data=result.__dict__)


def _build_lines(result: BuildResult) -> list[str]:
    lines = [
        f"{mode}: {n:,} hashes ({result.generations[mode]})" for mode, n in result.records.items()
    ]
    lines.append(f"read {result.lines:,} lines, skipped {result.skipped:,}")
    lines += [f"unreadable: {where}" for where in result.first_bad]
    return lines + (["resumed an interrupted build"] if result.resumed else [])


@app.command("build")
def build(
    files: list[Path] = FILES_ARGUMENT,
    fmt: str | None = FORMAT_OPTION,
    skip_lines: int = SKIP_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Build the breached-password store from scratch (beside the current one, then swap)."""
    _build(files, fmt, skip_lines, update=False, as_json=as_json)


@app.command("update")
def update(
    files: list[Path] = FILES_ARGUMENT,
    fmt: str | None = FORMAT_OPTION,
    skip_lines: int = SKIP_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add hashes to the store (a hash keeps the highest count any source gives)."""
    _build(files, fmt, skip_lines, update=True, as_json=as_json)


@app.command("check")
def check(
    org: str = typer.Option(..., "--org", help="the organisation whose policy applies"),
    mfa: bool = typer.Option(False, "--mfa", help="the account also has a second factor"),
    user_word: list[str] = typer.Option([], "--user-word", help="the person's names, account name"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a new password read from standard input (never the command line), and count it."""
    from bastion import passwords

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        msg = 'give the password on standard input, e.g. `read -s P; echo "$P" | bastion passwords check --org RAL`'
        raise InputError(msg)
    stores = passwords.Stores(settings().passwords_dir)
    verdict = in_session(
        passwords.check_password,
        stores,
        org.strip().upper(),
        password,
        mfa=mfa,
        user_words=user_word,
    )
    print_record(
        verdict, lambda v: [f"{v.reason}: {v.message}"], as_json=as_json, data=verdict.__dict__
    )
    if not verdict.accepted:
        raise typer.Exit(1)


def _report_lines(report: Any) -> list[str]:
    lines = [f"{report.org}: {report.accounts} accounts"]
    lines += [f"breached password: {u}" for u in report.breached]
    lines += [f"shared password: {', '.join(g)}" for g in report.shared]
    lines += [f"empty password: {u}" for u in report.empty]
    lines += [f"unreadable line {n}" for n in report.bad_lines]
    return lines


@app.command("audit")
def audit(
    org: str = typer.Argument(..., help="the organisation whose directory the export is of"),
    hashfile: Path = typer.Argument(..., help="user:rid:lm:nt::: dump or user,nthash CSV"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Report accounts of a directory export with breached, shared or empty passwords (kept for
    the organisation's console; the hashes are not)."""
    from bastion import passwords
    from bastion.cli.context import actor

    stores = passwords.Stores(settings().passwords_dir)
    audit_id, report = in_session(passwords.run_audit, stores, actor(), org, hashfile)
    data = {"id": audit_id, **report.__dict__}
    print_record(
        report, lambda r: [*_report_lines(r), f"report {audit_id} kept"], as_json=as_json, data=data
    )


STAT_COLUMNS: list[Column[CheckCount]] = [
    *fields("org", "month", "reason", "checks"),
]


@app.command("stats")
def stats(
    org: str | None = typer.Option(None, "--org", help="only this organisation"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List password checks per organisation, month and reason."""
    from bastion import passwords
    from bastion.core.scope import Scope

    scope = Scope.of([org]) if org else Scope.everything()
    found = in_session(passwords.check_counts, scope)
    print_rows(found, STAT_COLUMNS, as_json, noun="counts")
