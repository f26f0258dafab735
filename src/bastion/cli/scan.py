"""`bastion scan`: scan members' registered internet-facing services; findings and reports.

The command line acts nationally (it runs as whoever holds the server); every
change is recorded in the audit trail as ``cli:<login>`` (``--by`` to name
someone else). Only hosts, addresses and opted-in networks in the federation
registry are ever scanned.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.context import (
    BY_OPTION,
    actor,
    cli_session,
    command_group,
    day,
    everything,
    in_session,
    limit_option,
    settings,
    store,
)
from bastion.cli.output import JSON_OPTION, Column, fields, print_record, print_rows

if TYPE_CHECKING:
    from bastion.scan import Finding, ScanException, ScanReport

app = command_group("Threat scanning of members' registered internet-facing services.")


def _csv(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def _ports(text: str | None) -> list[int] | None:
    from bastion.core.errors import InputError

    try:
        return [int(p) for p in _csv(text) or []] or None
    except ValueError:
        msg = f"--ports takes port numbers separated by commas, not {text!r}"
        raise InputError(msg) from None


def _report_lines(report: ScanReport) -> Iterator[str]:
    yield f"scanned {len(report.scanned)} host(s); {report.observations} observation(s)"
    changes = report.changes
    yield (
        f"findings: {len(changes.opened)} opened, {len(changes.reopened)} reopened, "
        f"{len(changes.unconfirmed)} fixed-unconfirmed, {len(changes.closed)} closed; "
        f"{changes.alerts} alert(s) raised"
    )
    for label, why in report.held.items():
        yield f"held: {label}: {why}"
    for label, errors in report.errors.items():
        for check, error in errors.items():
            yield f"error: {label} {check}: {error}"


@app.command("run")
def run(
    target: str | None = typer.Argument(
        None,
        help="an organisation's code, a registered host or an address (default: every due host)",
    ),
    checks: str | None = typer.Option(
        None,
        "--checks",
        help="checks to run, comma-separated (ports always runs first); default all",
    ),
    ports: str | None = typer.Option(None, "--ports", help="TCP ports to scan, comma-separated"),
    ignore_quiet_hours: bool = typer.Option(
        False, "--ignore-quiet-hours", help="scan even inside an organisation's quiet hours"
    ),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Scan now and wait: one target, or every host the schedule says is due."""
    from bastion import scan

    config = settings()
    with cli_session() as session:
        if target:
            targets = scan.resolve_target(session, target, allow_private=config.scan_allow_private)
        else:
            targets = [p.target for p in scan.due_targets(session, config)]
        report = scan.scan(
            session, targets, config, actor=actor(by), checks=_csv(checks), ports=_ports(ports),
            ignore_quiet_hours=ignore_quiet_hours,
        )  # fmt: skip
    print_record(report, _report_lines, as_json=as_json)


FINDING_COLUMNS: list[Column[Finding]] = [
    *fields("id", "org", "host"),
    ("PORT", lambda f: f.port or "web"),
    *fields("check", "severity", "status"),
    ("LAST SEEN", lambda f: day(f.last_seen)),
    *fields("title"),
]


@app.command("findings")
def findings(
    org: str | None = typer.Option(None, "--org", "-o", help="only this organisation's findings"),
    status: str | None = typer.Option(
        None, "--status", help="open, fixed-unconfirmed, closed or excepted"
    ),
    severity: str | None = typer.Option(None, "--severity", help="low, medium, high or critical"),
    check: str | None = typer.Option(None, "--check", help="only this check's findings"),
    limit: int = limit_option(100),
    as_json: bool = JSON_OPTION,
) -> None:
    """List findings, worst first."""
    from bastion import scan

    found, total = in_session(
        scan.list_findings, everything(), org=org, status=status, severity=severity,
        check=check, limit=limit,
    )  # fmt: skip
    print_rows(found, FINDING_COLUMNS, as_json, total=total, noun="findings")


def _finding_lines(item: tuple[Finding, str]) -> Iterator[str]:
    finding, remediation = item
    yield f"finding {finding.id}  {finding.severity.value.upper()}  {finding.status.value}  {finding.title}"
    yield f"{finding.org} {finding.host} port {finding.port or 'web'}  {finding.check}:{finding.detail}"
    yield f"first seen {day(finding.first_seen)}, last seen {day(finding.last_seen)}; at {', '.join(finding.seen_at)}"
    yield f"probe: {finding.evidence.get('probe', '')}"
    yield f"response: {finding.evidence.get('response', '')[:500]}"
    yield ""
    yield remediation


@app.command("show")
def show(
    finding_id: int = typer.Argument(help="the finding's id, from `bastion scan findings`"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one finding: its evidence and the remediation written for the organisation."""
    from bastion import scan

    with cli_session() as session:
        finding = scan.get_finding(session, everything(), finding_id)
        text = scan.remediation_text(finding)
    print_record(
        (finding, text),
        _finding_lines,
        as_json=as_json,
        data={"finding": finding, "remediation": text},
    )


@app.command("rescan")
def rescan(
    finding_id: int = typer.Argument(help="the finding said to be fixed"),
    now: bool = typer.Option(False, "--now", help="rescan its host at once and wait"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Mark a finding fixed-unconfirmed and its host due; it closes only if the rescan agrees."""
    from bastion import scan

    config = settings()
    with cli_session() as session:
        finding = scan.request_rescan(session, everything(), finding_id, actor=actor(by))
    if now:
        with cli_session() as session:
            targets = scan.resolve_target(
                session, finding.host, allow_private=config.scan_allow_private
            )
            scan.scan(session, targets, config, actor=actor(by), ignore_quiet_hours=True)
        with cli_session() as session:
            finding = scan.get_finding(session, everything(), finding_id)
    print_record(finding, lambda f: [f"finding {f.id} is {f.status.value}"], as_json=as_json)


EXCEPTION_COLUMNS: list[Column[ScanException]] = [
    *fields("id", "org", "host"),
    ("CHECK", lambda e: e.check or "(all)"),
    *fields("state", "expires_on=EXPIRES", "reason"),
]


@app.command("except")
def except_(
    org: str = typer.Argument(help="the organisation's code"),
    host: str = typer.Argument(help="the registered host"),
    expires: str = typer.Option(..., "--expires", help="last day it holds (YYYY-MM-DD)"),
    reason: str = typer.Option(..., "--reason", help="why the host (or check) is left alone"),
    check: str | None = typer.Option(
        None, "--check", help="only this check (default the whole host)"
    ),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an approved exception: the host (or one check) is not scanned and its findings excepted."""
    from bastion import scan
    from bastion.core.errors import InputError

    try:
        until = date.fromisoformat(expires)
    except ValueError:
        msg = f"invalid --expires {expires!r}: expected YYYY-MM-DD"
        raise InputError(msg) from None
    if check:
        scan.CHECKS.get(check)
    made = in_session(
        scan.add_exception,
        org,
        host,
        check,
        expires_on=until,
        reason=reason,
        actor=actor(by),
        approve=True,
    )
    print_rows([made], EXCEPTION_COLUMNS, as_json)


@app.command("exceptions")
def exceptions(as_json: bool = JSON_OPTION) -> None:
    """List exceptions, newest first (requested ones wait for `scan decide`)."""
    from bastion import scan

    print_rows(in_session(scan.list_exceptions, everything()), EXCEPTION_COLUMNS, as_json)


@app.command("decide")
def decide(
    exception_id: int = typer.Argument(help="a requested exception's id"),
    approve: bool = typer.Option(..., "--approve/--reject", help="approve or reject it"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Approve or reject an exception a member organisation requested."""
    from bastion import scan

    made = in_session(scan.decide_exception, exception_id, approve=approve, actor=actor(by))
    print_rows([made], EXCEPTION_COLUMNS, as_json)


@app.command("policy")
def policy(
    org: str = typer.Argument(help="the organisation's code"),
    ranges: bool = typer.Option(
        False, "--ranges/--no-ranges", help="scan its registered networks too"
    ),
    high_risk: bool = typer.Option(False, "--high-risk/--normal-risk", help="scan it daily"),
    quiet: str | None = typer.Option(None, "--quiet", help="quiet hours HH:MM-HH:MM (local time)"),
    dkim: str | None = typer.Option(
        None,
        "--dkim",
        help="its DKIM selectors, comma-separated: SELECTOR (every mail domain) or "
        "SELECTOR@DOMAIN; '' clears them (default: keep)",
    ),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Set an organisation's scanning policy: opted-in ranges, high risk, quiet hours, DKIM selectors."""
    from bastion import scan

    with cli_session() as session:
        selectors = (
            tuple(_csv(dkim) or ())
            if dkim is not None
            else scan.get_policy(session, org).dkim_selectors
        )
        policy = scan.ScanPolicy(org, ranges, high_risk, quiet, selectors)
        saved = scan.set_policy(session, policy, actor=actor(by))
    print_record(
        saved,
        lambda p: [
            f"{p.org}: ranges {p.scan_ranges}, high risk {p.high_risk}, quiet hours "
            f"{p.quiet_hours or '-'}, DKIM selectors {', '.join(p.dkim_selectors) or '-'}"
        ],
        as_json=as_json,
    )


DUE_COLUMNS = fields("target.org=ORG", "target.host=HOST", "target.address=ADDRESS", "reason=WHY")


@app.command("due")
def due(
    limit: int = limit_option(100),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the hosts the schedule says are due for a scan, most overdue first."""
    from bastion import scan

    with cli_session() as session:
        plans = scan.due_targets(session, settings())
    print_rows(plans[:limit], DUE_COLUMNS, as_json, total=len(plans), noun="due hosts")


@app.command("report")
def report(
    org: str = typer.Argument(help="the organisation's code"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Report one organisation's findings: live ones by severity, each host's grades, remediation."""
    from bastion import scan

    found = in_session(scan.organisation_report, everything(), org)
    print_record(found, _org_report_lines, as_json=as_json)


def _org_report_lines(found: dict[str, Any]) -> Iterator[str]:
    yield f"{found['org']} {found['name']}: live findings {found['live_by_severity'] or 'none'}"
    yield f"  DKIM selectors: {', '.join(found['dkim_selectors']) or 'none registered (common ones tried)'}"
    for host in found["hosts"]:
        tls = [
            p.get("grade") for p in host.results.get("tls", {}).get("ports", []) if p.get("grade")
        ]
        headers = host.results.get("headers", {}).get("grade")
        yield f"  {host.host}: {host.live} live, worst {host.worst or '-'}; TLS {'/'.join(tls) or '-'}; headers {headers or '-'}"
    for finding in found["findings"]:
        yield f"  [{finding['severity']}] {finding['status']} #{finding['id']} {finding['host']}: {finding['title']}"
    for notice in found["notices"]:
        yield (
            f"  sent {notice['sent_at'][:16]} {notice['kind']} by {notice['channel']}: "
            f"{notice['status']} ({len(notice['findings'])} finding(s))"
        )


@app.command("canary")
def canary(
    dns: str = typer.Option(
        "127.0.0.1:5353", "--dns", help="host:port the DNS canary listener answers on"
    ),
    seconds: float = typer.Option(
        0, "--seconds", min=0, help="stop after this long (default: until interrupted)"
    ),
) -> None:
    """Run the DNS canary listener: every lookup of a planted name is stored for the Log4Shell check."""
    from bastion import scan

    domain = settings().scan_canary_domain

    def on_hit(hit: scan.Hit) -> None:
        with store().session() as session:
            scan.record_hit(session, hit)
        typer.echo(f"hit: {hit.qname} from {hit.source}")

    async def main() -> None:
        transport = await scan.listen(dns, domain, on_hit)
        typer.echo(f"canary listening on {dns} for *.{domain}", err=True)
        try:
            await asyncio.sleep(seconds if seconds else float("inf"))
        finally:
            transport.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@app.command("national")
def national(
    weeks: int = typer.Option(12, "--weeks", min=1, max=104, help="weeks of trend (default 12)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the national view: live findings by check, severity and region; the worst hosts;
    findings opened and closed per week by severity."""
    from bastion import scan

    found = in_session(scan.national_summary, everything(), weeks=weeks)
    print_record(found, _national_lines, as_json=as_json)


def _national_lines(found: dict[str, Any]) -> Iterator[str]:
    yield f"live findings: {found['live']}"
    yield f"by severity: {found['by_severity']}"
    yield f"by check: {found['by_check']}"
    yield f"by region: {found['by_region']}"
    for worst in found["worst_hosts"]:
        yield f"  {worst['score']:>5}  {worst['org']} {worst['host']}"
    yield "week of      opened (crit/high/med/low)  closed (crit/high/med/low)"
    for week in found["trend"]:
        opened, closed = ("/".join(str(n) for n in week[k].values()) for k in ("opened", "closed"))
        yield f"{week['week']}  {opened:<26}  {closed}"


def _notice_lines(notices: list[Any]) -> Iterator[str]:
    if not notices:
        yield "nothing to send"
    for notice in notices:
        sends = "; ".join(
            f"{s.channel} {s.status}" + (f" ({s.error})" if s.error else "") for s in notice.sends
        )
        yield f"{notice.org} {notice.kind}: {len(notice.findings)} finding(s); {sends or 'no channel'}"


def _print_notices(notices: list[Any], as_json: bool) -> None:
    print_record(notices, _notice_lines, as_json=as_json)
    if any(not n.delivered for n in notices):
        raise typer.Exit(1)  # each failed channel's reason is on its line; recorded too


def _channels_or_fail() -> Any:
    from bastion import scan
    from bastion.core.errors import InputError

    channels = scan.channels(settings())
    if not channels.enabled:
        msg = "no channel configured: set BASTION_SMTP_HOST or scan_webhook_url"
        raise InputError(msg)
    return channels


@app.command("digest")
def digest(
    org: str | None = typer.Option(None, "--org", "-o", help="only this organisation"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """E-mail each organisation with live findings its digest (contacts, and the webhook)."""
    from bastion import scan
    from bastion.core.timeutil import utcnow

    channels = _channels_or_fail()
    codes = [org.strip().upper()] if org else None
    notices = in_session(scan.send_digests, channels, actor=actor(by), now=utcnow(), codes=codes)
    _print_notices(notices, as_json)


@app.command("remind")
def remind(
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Remind organisations of findings open past their cadence (60/120/540 days by severity)."""
    from bastion import scan
    from bastion.core.timeutil import utcnow

    channels = _channels_or_fail()
    notices = in_session(
        scan.send_reminders, channels, scan.cadence(settings()), actor=actor(by), now=utcnow()
    )
    _print_notices(notices, as_json)
