"""`bastion advisories`: vulnerability intelligence, national cyber alerts and their views.

The organisations' responses (`advisories respond`, `overdue`, `remind`) are in
``bastion.cli.responses``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer

from bastion import advisories as adv
from bastion import auth
from bastion.audit import Actor
from bastion.cli import responses
from bastion.cli.context import (
    BY_OPTION,
    JSON_OPTION,
    actor,
    minute,
    print_json,
    print_table,
    store,
)
from bastion.core.errors import InputError, NotFoundError
from bastion.core.scope import Scope
from bastion.store import Store

app = typer.Typer(
    help="National cyber alerts: vulnerability intelligence, alerts and responses.",
    no_args_is_help=True,
)
feeds_app = typer.Typer(
    help="Vulnerability feeds fetched from URLs on a schedule.", no_args_is_help=True
)
app.add_typer(feeds_app, name="feeds")
app.add_typer(responses.respond_app, name="respond")


# --- intelligence ------------------------------------------------------------------


@app.command("import")
def import_(
    files: list[Path] = typer.Argument(
        help="OSV JSON / folder / zip, CVE JSON 5, KEV JSON, EPSS CSV"
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="osv, cve5, kev or epss (default: detect)"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import vulnerability intelligence, detecting each file's format, and match it to inventories."""
    reports = []
    for path in files:
        with store().session() as session:
            reports.append(adv.import_path(session, path, fmt, actor=Actor.cli()))
    if as_json:
        print_json(reports)
        return
    for r in reports:
        typer.echo(
            f"imported {r.source} ({r.format}): {r.records} records ({r.created} new, {r.updated} updated), "
            f"{r.epss} EPSS scores, {r.exposures_created} new exposures"
        )


@app.command("fetch")
def fetch(
    url: str = typer.Argument(
        help="http(s) URL of an OSV dump, CVE record, KEV catalogue or EPSS CSV"
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="osv, cve5, kev or epss (default: detect)"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Fetch intelligence from a URL once and import it."""
    with store().session() as session:
        report = adv.import_url(session, url, fmt, actor=Actor.cli())
    if as_json:
        print_json(report)
        return
    typer.echo(
        f"imported {url} ({report.format}): {report.records} records, {report.exposures_created} new exposures"
    )


@feeds_app.command("add")
def feeds_add(
    name: str = typer.Argument(help="a short name for the feed"),
    url: str = typer.Argument(help="http(s) URL"),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="osv, cve5, kev or epss (default: detect)"
    ),
    every: int = typer.Option(
        1440, "--every", min=1, help="minutes between fetches (default a day)"
    ),
) -> None:
    """Register a feed."""
    with store().session() as session:
        feed = adv.add_feed(session, name, url, fmt, every, actor=Actor.cli())
    typer.echo(f"feed {feed.name}: {feed.url} every {feed.interval_minutes} minutes")


@feeds_app.command("list")
def feeds_list(as_json: bool = JSON_OPTION) -> None:
    """List feeds and how their last fetch went."""
    with store().session() as session:
        found = adv.list_feeds(session)
    if as_json:
        print_json(found)
        return
    print_table(
        ["NAME", "URL", "EVERY", "LAST RUN", "STATUS"],
        [(f.name, f.url, f.interval_minutes, minute(f.last_run_at), f.last_status) for f in found],
    )


@feeds_app.command("run")
def feeds_run(
    force: bool = typer.Option(False, "--force", help="fetch even feeds that are not due"),
    name: str | None = typer.Option(None, "--name", help="only this feed"),
) -> None:
    """Fetch every feed that is due (run this from cron or a timer)."""
    with store().session() as session:
        outcomes = adv.run_feeds(session, actor=Actor.cli(), force=force, name=name)
    for feed, outcome in outcomes:
        typer.echo(f"{feed}: {outcome}")


@app.command("list")
def list_(
    kev: bool = typer.Option(False, "--kev", help="only known exploited vulnerabilities"),
    search: str | None = typer.Option(None, "--search", "-s", help="part of the id or summary"),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """List known vulnerabilities."""
    with store().session() as session:
        found = adv.list_vulnerabilities(session, kev_only=kev, search=search, limit=limit)
    if as_json:
        print_json(found)
        return
    print_table(
        ["ID", "SEVERITY", "CVSS", "KEV DUE", "EPSS", "SUMMARY"],
        [
            (v.key, v.severity or "", v.cvss_v4_score or v.cvss_v3_score or "", v.kev_due_date or "",
             "" if v.epss_probability is None else f"{v.epss_probability:.3f}", v.summary[:60])
            for v in found
        ],
    )  # fmt: skip


@app.command("show")
def show(
    identifier: str = typer.Argument(help="CVE, GHSA or other id"), as_json: bool = JSON_OPTION
) -> None:
    """Show one vulnerability: aliases, scores, KEV and EPSS, affected ranges."""
    with store().session() as session:
        vuln = adv.get_vulnerability(session, identifier)
    if as_json:
        print_json(vuln)
        return
    typer.echo(f"{vuln.key}  {vuln.severity or ''}  aliases: {', '.join(vuln.aliases)}")
    typer.echo(f"  {vuln.summary}")
    if vuln.cvss_v3_vector:
        typer.echo(f"  CVSS {vuln.cvss_v3_score} {vuln.cvss_v3_vector}")
    if vuln.cvss_v4_vector:
        typer.echo(f"  CVSS {vuln.cvss_v4_score} {vuln.cvss_v4_vector}")
    if vuln.kev:
        typer.echo(f"  KEV: due {vuln.kev_due_date}, ransomware use {vuln.kev_ransomware}")
    for line in vuln.ranges:
        typer.echo(f"  affected: {line}")


# --- alerts ------------------------------------------------------------------------


def _content(
    base: adv.AlertContent | None,
    title: str | None,
    severity: str | None,
    type_: str | None,
    summary: str | None,
    products: str | None,
    threat: str | None,
    remediation: str | None,
    cves: list[str] | None,
) -> adv.AlertContent:
    if base is None:
        if not title or not severity:
            msg = "a new alert needs --title and --severity"
            raise InputError(msg)
        base = adv.AlertContent(title=title, severity=adv.AlertSeverity.parse(severity))
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "title": title, "severity": adv.AlertSeverity.parse(severity) if severity else None,
            "type": type_, "summary": summary, "affected_products": products, "threat_details": threat,
            "remediation": remediation, "cves": tuple(cves) if cves else None,
        }.items()
        if v is not None
    }  # fmt: skip
    return dataclasses.replace(base, **changes)


TITLE = typer.Option(None, "--title")
SEVERITY = typer.Option(None, "--severity", help="high, medium, low or information")
TYPE = typer.Option(None, "--type", help="e.g. vulnerability, threat campaign")
SUMMARY = typer.Option(None, "--summary")
PRODUCTS = typer.Option(None, "--affected-products")
THREAT = typer.Option(None, "--threat-details")
REMEDIATION = typer.Option(None, "--remediation")
CVES = typer.Option(None, "--cve", help="a CVE or GHSA id; repeat for several")


def _print_alert(alert: adv.Alert, as_json: bool) -> None:
    if as_json:
        print_json(alert)
        return
    c = alert.content
    typer.echo(f"{alert.ref} v{alert.version} [{alert.status}] {c.severity.value}: {c.title}")
    typer.echo(f"  CVEs: {', '.join(c.cves) or '-'}")
    for v in alert.versions:
        typer.echo(
            f"  version {v.version} by {v.author} {minute(v.published_at) or 'unpublished'}: {v.change_note}"
        )


@app.command("draft")
def draft(
    title: str | None = TITLE, severity: str | None = SEVERITY, type_: str | None = TYPE,
    summary: str | None = SUMMARY, products: str | None = PRODUCTS, threat: str | None = THREAT,
    remediation: str | None = REMEDIATION, cves: list[str] | None = CVES,
    orgs: list[str] | None = typer.Option(None, "--org", "-o", help="also reach this organisation"),
    by: str | None = BY_OPTION, as_json: bool = JSON_OPTION,
) -> None:  # fmt: skip
    """Draft a national cyber alert (it reaches nobody until published)."""
    content = _content(
        None,
        title,
        severity,
        type_ or "vulnerability",
        summary,
        products,
        threat,
        remediation,
        cves,
    )
    with store().session() as session:
        alert = adv.draft_alert(
            session, content, author=Actor.cli(actor(by)), organisations=tuple(orgs or ())
        )
    _print_alert(alert, as_json)


@app.command("edit")
def edit(
    ref: str = typer.Argument(help="CC-NNNN"),
    title: str | None = TITLE, severity: str | None = SEVERITY, type_: str | None = TYPE,
    summary: str | None = SUMMARY, products: str | None = PRODUCTS, threat: str | None = THREAT,
    remediation: str | None = REMEDIATION, cves: list[str] | None = CVES,
    by: str | None = BY_OPTION, as_json: bool = JSON_OPTION,
) -> None:  # fmt: skip
    """Change a draft alert."""
    with store().session() as session:
        base = adv.get_alert(session, ref).content
        content = _content(
            base, title, severity, type_, summary, products, threat, remediation, cves
        )
        alert = adv.edit_draft(session, ref, content, author=Actor.cli(actor(by)))
    _print_alert(alert, as_json)


@app.command("preview")
def preview_(ref: str = typer.Argument(help="CC-NNNN"), as_json: bool = JSON_OPTION) -> None:
    """Show the organisations an alert would reach, and the exposures that decide it."""
    with store().session() as session:
        targets = adv.preview(session, ref)
    if as_json:
        print_json(targets)
        return
    for t in targets:
        typer.echo(
            f"{t.organisation} {t.name} ({len(t.contacts)} contacts){' [named]' if t.named else ''}"
        )
        for e in t.exposures:
            typer.echo(f"  {e}")
    typer.echo(f"{len(targets)} organisations", err=True)


@app.command("publish")
def publish_(
    ref: str = typer.Argument(help="CC-NNNN"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Publish a draft: e-mail every affected organisation's contacts and open their responses."""
    with store().session() as session:
        report = adv.publish(
            session,
            ref,
            actor=Actor.cli(actor(by)),
            policy=responses.policy(),
            smtp=adv.SmtpConfig.from_env(),
        )
    if as_json:
        print_json(report)
        return
    typer.echo(
        f"published {report.ref} v{report.version} to {report.organisations} organisations "
        f"({report.emails_sent} e-mails sent, {report.emails_failed} failed)"
    )


@app.command("revise")
def revise_(
    ref: str = typer.Argument(help="CC-NNNN"),
    note: str = typer.Option(..., "--note", help="what changed, for the recipients"),
    title: str | None = TITLE, severity: str | None = SEVERITY, type_: str | None = TYPE,
    summary: str | None = SUMMARY, products: str | None = PRODUCTS, threat: str | None = THREAT,
    remediation: str | None = REMEDIATION, cves: list[str] | None = CVES,
    by: str | None = BY_OPTION, as_json: bool = JSON_OPTION,
) -> None:  # fmt: skip
    """Publish a new version of an alert and notify every organisation it reaches again."""
    with store().session() as session:
        base = adv.get_alert(session, ref).content
        content = _content(
            base, title, severity, type_, summary, products, threat, remediation, cves
        )
        report = adv.revise(
            session,
            ref,
            content,
            note=note,
            actor=Actor.cli(actor(by)),
            policy=responses.policy(),
            smtp=adv.SmtpConfig.from_env(),
        )
    if as_json:
        print_json(report)
        return
    typer.echo(
        f"revised {report.ref} to v{report.version}: {report.organisations} organisations notified"
    )


@app.command("alerts")
def alerts(as_json: bool = JSON_OPTION) -> None:
    """List national cyber alerts."""
    with store().session() as session:
        found, _ = adv.visible_alerts(session, Scope.everything())
    if as_json:
        print_json(found)
        return
    print_table(
        ["ALERT", "VERSION", "STATUS", "SEVERITY", "PUBLISHED", "TITLE"],
        [
            (
                a.ref,
                a.version,
                a.status,
                a.content.severity.value,
                minute(a.published_at),
                a.content.title,
            )
            for a in found
        ],
    )


@app.command("alert")
def alert(ref: str = typer.Argument(help="CC-NNNN"), as_json: bool = JSON_OPTION) -> None:
    """Show one alert with all its versions."""
    with store().session() as session:
        found = adv.visible_alert(session, ref, Scope.everything())
    _print_alert(found, as_json)


# The responses' commands (bastion.cli.responses), listed here in the help.
app.command("overdue")(responses.overdue)
app.command("remind")(responses.remind)


@app.command("view")
def view(ref: str | None = typer.Argument(None, help="CC-NNNN (default: every published alert)"),
         as_json: bool = JSON_OPTION) -> None:  # fmt: skip
    """The national view: per alert, affected, acknowledged in time, applicable, remediated, overdue."""
    with store().session() as session:
        found = [adv.alert_progress(session, ref)] if ref else adv.national_view(session)
    if as_json:
        print_json(found)
        return
    print_table(
        ["ALERT", "SEVERITY", "AFFECTED", "ACK", "ACK IN TIME", "APPLICABLE", "REMEDIATED", "CLOSED", "OVERDUE"],
        [(p.alert, p.severity, p.affected, p.acknowledged, p.acknowledged_in_time, p.applicable, p.remediated,
          p.closed, p.overdue) for p in found],
    )  # fmt: skip


@app.command("org-view")
def org_view(
    org: str = typer.Argument(help="organisation code"), as_json: bool = JSON_OPTION
) -> None:
    """One organisation: its open and overdue alerts and its exposures."""
    with store().session() as session:
        found = adv.organisation_view(session, org)
    if as_json:
        print_json(found)
        return
    typer.echo(f"{found.organisation}: open alerts {', '.join(found.open_alerts) or 'none'}; "
               f"overdue {', '.join(found.overdue_alerts) or 'none'}; "
               f"{found.exposures} exposures to {found.exposed_vulnerabilities} vulnerabilities")  # fmt: skip


DEMO_ADVISORY = adv.AlertContent(
    title="Log4Shell: remote code execution in Apache Log4j 2 (demo)",
    severity=adv.AlertSeverity.HIGH,
    summary="Apache Log4j 2 before 2.15.0 lets an attacker who controls logged text run code.",
    affected_products="Applications bundling log4j-core 2.0-beta9 to 2.14.1.",
    remediation="Upgrade log4j-core to 2.17.1 or later; until then remove the JndiLookup class.",
    cves=("CVE-2021-44228",),
)


def demo_advisory_once(opened: Store, lead: str, data_dir: Path) -> list[str]:
    """Publish one demo national alert to the demo lead's organisations, if none exists yet.

    E-mail goes where ``BASTION_SMTP_*`` say; with no server there each send is
    recorded as failed, and the alert is on the console all the same.
    """
    with opened.session() as session:
        if adv.visible_alerts(session, Scope.everything(), limit=1)[1]:
            return ["demo advisory not published: the database already has national alerts"]
        try:
            codes = tuple(code for code, _ in auth.get_user(session, lead).memberships)
        except NotFoundError:
            codes = ()
        if not codes:
            return [f"demo advisory not published: no user {lead} with an organisation"]
        ref = adv.draft_alert(session, DEMO_ADVISORY, author=Actor.cli(), organisations=codes).ref
        report = adv.publish(
            session,
            ref,
            actor=Actor.cli(),
            policy=adv.load_policy(data_dir),
            smtp=dataclasses.replace(adv.SmtpConfig.from_env(), timeout=2.0),
        )
    return [
        f"published demo national alert {ref} to {', '.join(report.targets)} "
        f"({report.emails_sent} e-mails sent, {report.emails_failed} failed): "
        f"{lead} sees it at /advisories/{ref}"
    ]
