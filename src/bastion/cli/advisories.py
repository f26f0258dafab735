"""`bastion advisories`: vulnerability intelligence, national cyber alerts and their views.

The organisations' responses (`advisories respond`, `overdue`, `remind`) are in
``bastion.cli.responses``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli import responses
from bastion.cli.context import (
    BY_OPTION,
    actor,
    cli_session,
    command_group,
    everything,
    in_session,
    limit_option,
    minute,
)
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, fields, print_record, print_rows
from bastion.core.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from bastion import advisories as adv
    from bastion.advisories.vulnerabilities import Vulnerability
    from bastion.store import Store

app = command_group("National cyber alerts: vulnerability intelligence, alerts and responses.")
feeds_app = command_group("Vulnerability feeds fetched from URLs on a schedule.")
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
    from bastion import advisories as adv

    reports = []
    for path in files:
        with cli_session() as session:
            reports.append(adv.import_path(session, path, fmt, actor=actor()))
    print_record(
        reports,
        lambda found: [
            f"imported {r.source} ({r.format}): {r.records} records ({r.created} new, {r.updated} updated), "
            f"{r.epss} EPSS scores, {r.exposures_created} new exposures"
            for r in found
        ],
        as_json=as_json,
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
    from bastion import advisories as adv

    report = in_session(adv.import_url, url, fmt, actor=actor())
    print_record(
        report,
        lambda r: [
            f"imported {url} ({r.format}): {r.records} records, {r.exposures_created} new exposures"
        ],
        as_json=as_json,
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
    from bastion import advisories as adv

    feed = in_session(adv.add_feed, name, url, fmt, every, actor=actor())
    typer.echo(f"feed {feed.name}: {feed.url} every {feed.interval_minutes} minutes")


FEED_COLUMNS: list[Column[Any]] = [
    *fields("name", "url", "interval_minutes=EVERY"),
    ("LAST RUN", lambda f: minute(f.last_run_at)),
    *fields("last_status=STATUS"),
]


@feeds_app.command("list")
def feeds_list(as_json: bool = JSON_OPTION) -> None:
    """List feeds and how their last fetch went."""
    from bastion import advisories as adv

    found = in_session(adv.list_feeds)
    print_rows(found, FEED_COLUMNS, as_json=as_json)


@feeds_app.command("run")
def feeds_run(
    force: bool = typer.Option(False, "--force", help="fetch even feeds that are not due"),
    name: str | None = typer.Option(None, "--name", help="only this feed"),
) -> None:
    """Fetch every feed that is due (run this from cron or a timer)."""
    from bastion import advisories as adv

    outcomes = in_session(adv.run_feeds, actor=actor(), force=force, name=name)
    for feed, outcome in outcomes:
        typer.echo(f"{feed}: {outcome}")


VULNERABILITY_COLUMNS: list[Column[Any]] = [
    *fields("key=ID", "severity"),
    ("CVSS", lambda v: v.cvss_v4_score or v.cvss_v3_score or ""),
    *fields("kev_due_date=KEV DUE"),
    ("EPSS", lambda v: "" if v.epss_probability is None else f"{v.epss_probability:.3f}"),
    ("SUMMARY", lambda v: v.summary[:60]),
]


@app.command("list")
def list_(
    kev: bool = typer.Option(False, "--kev", help="only known exploited vulnerabilities"),
    search: str | None = typer.Option(None, "--search", "-s", help="part of the id or summary"),
    limit: int = limit_option(50),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List known vulnerabilities."""
    from bastion import advisories as adv

    found = in_session(adv.list_vulnerabilities, kev_only=kev, search=search, limit=limit)
    print_rows(found, VULNERABILITY_COLUMNS, as_json, as_csv)


@app.command("show")
def show(
    identifier: str = typer.Argument(help="CVE, GHSA or other id"), as_json: bool = JSON_OPTION
) -> None:
    """Show one vulnerability: aliases, scores, KEV and EPSS, affected ranges."""
    from bastion import advisories as adv

    vuln = in_session(adv.get_vulnerability, identifier)
    print_record(vuln, _vulnerability_lines, as_json=as_json)


def _vulnerability_lines(vuln: Vulnerability) -> Iterator[str]:
    yield f"{vuln.key}  {vuln.severity or ''}  aliases: {', '.join(vuln.aliases)}"
    yield f"  {vuln.summary}"
    if vuln.cvss_v3_vector:
        yield f"  CVSS {vuln.cvss_v3_score} {vuln.cvss_v3_vector}"
    if vuln.cvss_v4_vector:
        yield f"  CVSS {vuln.cvss_v4_score} {vuln.cvss_v4_vector}"
    if vuln.kev:
        yield f"  KEV: due {vuln.kev_due_date}, ransomware use {vuln.kev_ransomware}"
    for line in vuln.ranges:
        yield f"  affected: {line}"


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
    from bastion import advisories as adv

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


TITLE = typer.Option(None, "--title", help="the alert's title (a new alert needs one)")
SEVERITY = typer.Option(None, "--severity", help="high, medium, low or information")
TYPE = typer.Option(None, "--type", help="e.g. vulnerability, threat campaign")
SUMMARY = typer.Option(None, "--summary", help="what the vulnerability or threat is")
PRODUCTS = typer.Option(None, "--affected-products", help="the products and versions affected")
THREAT = typer.Option(None, "--threat-details", help="how it is exploited, and whether it is")
REMEDIATION = typer.Option(None, "--remediation", help="what organisations should do")
CVES = typer.Option(None, "--cve", help="a CVE or GHSA id; repeat for several")


def _alert_lines(alert: adv.Alert) -> Iterator[str]:
    c = alert.content
    yield f"{alert.ref} v{alert.version} [{alert.status}] {c.severity.value}: {c.title}"
    yield f"  CVEs: {', '.join(c.cves) or '-'}"
    for v in alert.versions:
        yield f"  version {v.version} by {v.author} {minute(v.published_at) or 'unpublished'}: {v.change_note}"


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
    from bastion import advisories as adv

    alert = in_session(adv.draft_alert, content, author=actor(by), organisations=tuple(orgs or ()))
    print_record(alert, _alert_lines, as_json=as_json)


@app.command("edit")
def edit(
    ref: str = typer.Argument(help="CC-NNNN"),
    title: str | None = TITLE, severity: str | None = SEVERITY, type_: str | None = TYPE,
    summary: str | None = SUMMARY, products: str | None = PRODUCTS, threat: str | None = THREAT,
    remediation: str | None = REMEDIATION, cves: list[str] | None = CVES,
    by: str | None = BY_OPTION, as_json: bool = JSON_OPTION,
) -> None:  # fmt: skip
    """Change a draft alert."""
    from bastion import advisories as adv

    with cli_session() as session:
        base = adv.get_alert(session, ref).content
        content = _content(
            base, title, severity, type_, summary, products, threat, remediation, cves
        )
        alert = adv.edit_draft(session, ref, content, author=actor(by))
    print_record(alert, _alert_lines, as_json=as_json)


@app.command("preview")
def preview_(ref: str = typer.Argument(help="CC-NNNN"), as_json: bool = JSON_OPTION) -> None:
    """Show the organisations an alert would reach, and the exposures that decide it."""
    from bastion import advisories as adv

    targets = in_session(adv.preview, ref)
    print_record(targets, _preview_lines, as_json=as_json, footer=f"{len(targets)} organisations")


def _preview_lines(targets: list[adv.Target]) -> Iterator[str]:
    for t in targets:
        yield f"{t.organisation} {t.name} ({len(t.contacts)} contacts){' [named]' if t.named else ''}"
        for e in t.exposures:
            yield f"  {e}"


@app.command("publish")
def publish_(
    ref: str = typer.Argument(help="CC-NNNN"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Publish a draft: e-mail every affected organisation's contacts and open their responses."""
    from bastion import advisories as adv

    report = in_session(
        adv.publish, ref, actor=actor(by), policy=responses.policy(), smtp=adv.SmtpConfig.from_env()
    )
    print_record(
        report,
        lambda r: [
            f"published {r.ref} v{r.version} to {r.organisations} organisations "
            f"({r.emails_sent} e-mails sent, {r.emails_failed} failed)"
        ],
        as_json=as_json,
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
    from bastion import advisories as adv

    with cli_session() as session:
        base = adv.get_alert(session, ref).content
        content = _content(
            base, title, severity, type_, summary, products, threat, remediation, cves
        )
        report = adv.revise(
            session,
            ref,
            content,
            note=note,
            actor=actor(by),
            policy=responses.policy(),
            smtp=adv.SmtpConfig.from_env(),
        )
    print_record(
        report,
        lambda r: [f"revised {r.ref} to v{r.version}: {r.organisations} organisations notified"],
        as_json=as_json,
    )


ALERT_COLUMNS: list[Column[Any]] = [
    *fields("ref=ALERT", "version", "status"),
    *fields("content.severity=SEVERITY"),
    ("PUBLISHED", lambda a: minute(a.published_at)),
    *fields("content.title=TITLE"),
]


@app.command("alerts")
def alerts(as_json: bool = JSON_OPTION) -> None:
    """List national cyber alerts."""
    from bastion import advisories as adv

    found, _ = in_session(adv.visible_alerts, everything())
    print_rows(found, ALERT_COLUMNS, as_json=as_json)


@app.command("alert")
def alert(ref: str = typer.Argument(help="CC-NNNN"), as_json: bool = JSON_OPTION) -> None:
    """Show one alert with all its versions."""
    from bastion import advisories as adv

    found = in_session(adv.visible_alert, ref, everything())
    print_record(found, _alert_lines, as_json=as_json)


# The responses' commands (bastion.cli.responses), listed here in the help.
app.command("overdue")(responses.overdue)
app.command("remind")(responses.remind)


PROGRESS_COLUMNS: list[Column[Any]] = [
    *fields(
        "alert",
        "severity",
        "affected",
        "acknowledged=ACK",
        "acknowledged_in_time=ACK IN TIME",
        "applicable",
        "remediated",
        "closed",
        "overdue",
    ),
]


@app.command("view")
def view(ref: str | None = typer.Argument(None, help="CC-NNNN (default: every published alert)"),
         as_json: bool = JSON_OPTION) -> None:  # fmt: skip
    """The national view: per alert, affected, acknowledged in time, applicable, remediated, overdue."""
    from bastion import advisories as adv

    with cli_session() as session:
        found = [adv.alert_progress(session, ref)] if ref else adv.national_view(session)
    print_rows(found, PROGRESS_COLUMNS, as_json=as_json)


@app.command("org-view")
def org_view(
    org: str = typer.Argument(help="organisation code"), as_json: bool = JSON_OPTION
) -> None:
    """One organisation: its open and overdue alerts and its exposures."""
    from bastion import advisories as adv

    found = in_session(adv.organisation_view, org)
    print_record(
        found,
        lambda v: [
            f"{v.organisation}: open alerts {', '.join(v.open_alerts) or 'none'}; "
            f"overdue {', '.join(v.overdue_alerts) or 'none'}; "
            f"{v.exposures} exposures to {v.exposed_vulnerabilities} vulnerabilities"
        ],
        as_json=as_json,
    )


def demo_advisory_once(opened: Store, lead: str, data_dir: Path) -> list[str]:
    """Load the demo's vulnerabilities and inventories and publish its national alert, once.

    E-mail goes where ``BASTION_SMTP_*`` say; with no server there each send is
    recorded as failed, and the alert is on the console all the same.
    """
    from bastion import advisories as adv
    from bastion import auth
    from bastion.demo.national import load_demo_advisories

    with opened.session() as session:
        if adv.visible_alerts(session, everything(), limit=1)[1]:
            return ["demo advisory not published: the database already has national alerts"]
        try:
            codes = tuple(code for code, _ in auth.get_user(session, lead).memberships)
        except NotFoundError:
            codes = ()
        if not codes:
            return [f"demo advisory not published: no user {lead} with an organisation"]
        done = load_demo_advisories(
            session,
            actor=actor(),
            lead_codes=codes,
            policy=adv.load_policy(data_dir),
            smtp=dataclasses.replace(adv.SmtpConfig.from_env(), timeout=2.0),
        )
    return [
        f"loaded {done.vulnerabilities} demo vulnerability records and {done.inventories} "
        f"demo inventories: {done.exposures} exposures",
        f"published demo national alert {done.ref} to {len(done.targets)} organisations "
        f"({done.emails_sent} e-mails sent, {done.emails_failed} failed), "
        f"{len(done.acknowledged)} acknowledged: {lead} sees it at /advisories/{done.ref}",
    ]
