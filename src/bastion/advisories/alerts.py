"""National cyber alerts: draft, preview the organisations reached, publish, revise.

An alert (``CC-NNNN``) keeps every version of its content; publishing and each
revision notify every affected organisation's contacts by e-mail and on the
console, and open (or keep) one response per organisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion import audit, orgs
from bastion.advisories.holdings import list_exposures
from bastion.advisories.models import (
    AlertRow,
    AlertVersionRow,
    AliasRow,
    ResponseRow,
    VulnerabilityRow,
)
from bastion.advisories.notify import Message, SmtpConfig, notify_organisation
from bastion.advisories.policy import Policy
from bastion.audit import Actor
from bastion.core.choices import Choice
from bastion.core.errors import ConflictError, InputError, NotFoundError
from bastion.core.records import from_row, must_exist
from bastion.core.timeutil import utcnow
from bastion.core.types import must_match, org_code


class AlertSeverity(Choice, what="alert severity"):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFORMATION = "information"


_CVE = re.compile(r"^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$", re.IGNORECASE)


@dataclass(frozen=True)
class AlertContent:
    """What an alert says; one of these per version."""

    title: str
    severity: AlertSeverity
    type: str = "vulnerability"
    summary: str = ""
    affected_products: str = ""
    threat_details: str = ""
    remediation: str = ""
    cves: tuple[str, ...] = ()

    def validated(self) -> AlertContent:
        if not self.title.strip():
            msg = "an alert needs a title"
            raise InputError(msg)
        cves = []
        for cve in self.cves:
            expected = "expected CVE-YYYY-NNNN or a GHSA id"
            text = must_match(_CVE, cve.strip(), "vulnerability id", cve, expected)
            cves.append(text.upper() if text.upper().startswith("CVE") else text)
        return replace(
            self,
            title=self.title.strip()[:300],
            severity=AlertSeverity.parse(str(self.severity)),
            type=self.type.strip()[:64] or "vulnerability",
            cves=tuple(dict.fromkeys(cves)),
        )


@dataclass(frozen=True)
class AlertVersion:
    version: int
    content: AlertContent
    author: str
    change_note: str
    created_at: datetime
    published_at: datetime | None


@dataclass(frozen=True)
class Alert:
    ref: str
    status: str
    version: int
    content: AlertContent
    created_by: str
    created_at: datetime
    published_at: datetime | None
    extra_organisations: tuple[str, ...] = ()
    versions: tuple[AlertVersion, ...] = ()


@dataclass(frozen=True)
class Target:
    """An organisation an alert reaches, and the exposures that make it so."""

    organisation: str
    name: str
    contacts: tuple[str, ...]
    exposures: tuple[str, ...] = ()  # "CVE-… log4j-core 2.14.1 (inventory)"
    named: bool = False  # added by the analyst, not by exposure


@dataclass
class PublishReport:
    ref: str
    version: int
    organisations: int
    emails_sent: int
    emails_failed: int
    targets: list[str] = field(default_factory=list)


def version_content(row: AlertVersionRow) -> AlertContent:
    """Return what one stored version of an alert says."""
    return from_row(AlertContent, row, severity=AlertSeverity(row.severity), cves=tuple(row.cves))


def alert_row(session: Session, ref: str) -> AlertRow:
    """Return the stored alert ``ref`` (any case), or raise NotFoundError."""
    row = session.scalar(select(AlertRow).where(AlertRow.ref == ref.strip().upper()))
    return must_exist(row, f"no alert {ref!r}")


def _alert_in(session: Session, ref: str, status: str, refusal: str) -> AlertRow:
    """Return the stored alert ``ref`` if it is ``status``; else refuse: "alert <ref> <refusal>"."""
    row = alert_row(session, ref)
    if row.status != status:
        msg = f"alert {row.ref} {refusal}"
        raise ConflictError(msg)
    return row


def _versions(session: Session, alert: AlertRow) -> list[AlertVersionRow]:
    return list(
        session.scalars(
            select(AlertVersionRow)
            .where(AlertVersionRow.alert_id == alert.id)
            .order_by(AlertVersionRow.version)
        )
    )


def current_version(session: Session, alert: AlertRow) -> AlertVersionRow:
    """Return the stored alert's latest version."""
    return _versions(session, alert)[-1]


def get_alert(session: Session, ref: str) -> Alert:
    """Return the alert with every version of its content."""
    row = alert_row(session, ref)
    versions = _versions(session, row)
    return from_row(
        Alert,
        row,
        content=version_content(versions[-1]),
        extra_organisations=tuple(row.extra_orgs),
        versions=tuple(from_row(AlertVersion, v, content=version_content(v)) for v in versions),
    )


def _content_dict(content: AlertContent) -> dict[str, object]:
    return {
        "title": content.title, "severity": content.severity.value, "type": content.type,
        "summary": content.summary, "affected_products": content.affected_products,
        "threat_details": content.threat_details, "remediation": content.remediation,
        "cves": list(content.cves),
    }  # fmt: skip


def _version_row(
    alert_id: int, version: int, content: AlertContent, author: str, note: str
) -> AlertVersionRow:
    return AlertVersionRow(
        alert_id=alert_id,
        version=version,
        author=author,
        change_note=note,
        **_content_dict(content),
    )


def draft_alert(
    session: Session, content: AlertContent, *, author: Actor, organisations: tuple[str, ...] = ()
) -> Alert:
    """Draft a new alert (audited); it reaches nobody until published."""
    content = content.validated()
    extra = _valid_orgs(session, organisations)
    number = (session.scalar(select(func.count()).select_from(AlertRow)) or 0) + 1
    ref = f"CC-{number:04d}"
    while session.scalar(select(AlertRow.id).where(AlertRow.ref == ref)) is not None:
        number += 1
        ref = f"CC-{number:04d}"
    row = AlertRow(
        ref=ref, status="draft", version=1, extra_orgs=list(extra), created_by=str(author)
    )
    session.add(row)
    session.flush()
    session.add(_version_row(row.id, 1, content, str(author), "draft"))
    audit.record(session, author, "advisory.draft", f"advisory:{ref}", after=_content_dict(content))
    session.flush()
    return get_alert(session, ref)


def edit_draft(
    session: Session,
    ref: str,
    content: AlertContent,
    *,
    author: Actor,
    organisations: tuple[str, ...] | None = None,
) -> Alert:
    """Change a draft in place (published alerts are revised instead); audited."""
    row = _alert_in(session, ref, "draft", "is published: revise it instead")
    content = content.validated()
    current = current_version(session, row)
    before = _content_dict(version_content(current))
    for key, value in _content_dict(content).items():
        setattr(current, key, value)
    if organisations is not None:
        row.extra_orgs = list(_valid_orgs(session, organisations))
    audit.record(
        session,
        author,
        "advisory.edit",
        f"advisory:{row.ref}",
        before=before,
        after=_content_dict(content),
    )
    session.flush()
    return get_alert(session, ref)


def _valid_orgs(session: Session, codes: tuple[str, ...]) -> tuple[str, ...]:
    wanted = [org_code(c) for c in codes]
    known = orgs.organisation_ids(session, wanted)
    missing = sorted(set(wanted) - set(known))
    if missing:
        msg = f"no organisation with code {', '.join(missing)}"
        raise NotFoundError(msg)
    return tuple(dict.fromkeys(wanted))


def _vuln_ids(session: Session, identifiers: tuple[str, ...]) -> list[int]:
    if not identifiers:
        return []
    return sorted(
        set(session.scalars(select(AliasRow.vuln_id).where(AliasRow.alias.in_(identifiers))))
    )


def preview(session: Session, ref: str) -> list[Target]:
    """Return the organisations the alert would reach now, with the exposures that decide it."""
    row = alert_row(session, ref)
    content = version_content(current_version(session, row))
    return _targets(session, content, tuple(row.extra_orgs))


def _targets(session: Session, content: AlertContent, extra: tuple[str, ...]) -> list[Target]:
    vuln_ids = _vuln_ids(session, content.cves)
    reasons: dict[str, list[str]] = {}
    if vuln_ids:
        for e in list_exposures(session, vuln_ids=vuln_ids, status="affected"):
            reasons.setdefault(e.organisation, []).append(
                f"{e.vulnerability} {e.component} {e.version} ({e.inventory}; {e.range})"
            )
    codes = sorted(set(reasons) | set(extra))
    found, _ = orgs.list_organisations(session, codes=codes) if codes else ([], 0)
    return [
        Target(
            organisation=o.code,
            name=o.name,
            contacts=tuple(c.email for c in o.contacts),
            exposures=tuple(reasons.get(o.code, ())),
            named=o.code in extra and o.code not in reasons,
        )
        for o in found
    ]


def _deadlines(
    session: Session, content: AlertContent, policy: Policy, published: datetime
) -> tuple[datetime | None, datetime | None]:
    vuln_ids = _vuln_ids(session, content.cves)
    severities = [content.severity.value]
    kev_due: list[date] = []
    for severity, due in session.execute(
        select(VulnerabilityRow.severity, VulnerabilityRow.kev_due_date).where(
            VulnerabilityRow.id.in_(vuln_ids)
        )
    ):
        if severity:
            severities.append(severity)
        if due:
            kev_due.append(due)
    return policy.ack_due(content.severity.value, published), policy.remediation_due(
        severities, published, kev_due
    )


def alert_message(
    ref: str, version: int, content: AlertContent, target: Target, kind: str
) -> Message:
    """Return the e-mail telling ``target`` of an alert: ``publish``, ``revision`` or ``reminder``."""
    label = {"publish": "", "revision": f" (revision {version})", "reminder": " (reminder)"}[kind]
    lines = [
        f"{ref}{label}: {content.title}",
        f"Severity: {content.severity.value}    Type: {content.type}",
        f"Vulnerabilities: {', '.join(content.cves) or 'none named'}",
        "",
        content.summary,
        "",
        "Affected products:",
        content.affected_products,
        "",
        "Threat details:",
        content.threat_details,
        "",
        "Remediation:",
        content.remediation,
    ]
    if target.exposures:
        lines += ["", f"Bastion holds these exposures for {target.name} ({target.organisation}):"]
        lines += [f"  - {e}" for e in target.exposures]
    lines += ["", "Acknowledge and respond in Bastion: bastion advisories respond ack " + ref]
    subject = f"[{content.severity.value.upper()}] {ref}{label}: {content.title}"
    return Message(target.contacts, subject, "\n".join(lines))


def _notify_all(
    session: Session,
    row: AlertRow,
    content: AlertContent,
    policy: Policy,
    smtp: SmtpConfig,
    kind: str,
    now: datetime,
) -> PublishReport:
    targets = _targets(session, content, tuple(row.extra_orgs))
    existing = {
        r.org_code: r
        for r in session.scalars(select(ResponseRow).where(ResponseRow.alert_id == row.id))
    }
    # A revision reaches every organisation already responding too, even if no longer exposed.
    known = {t.organisation for t in targets}
    missing = sorted(set(existing) - known)
    if missing:
        found, _ = orgs.list_organisations(session, codes=missing)
        targets += [Target(o.code, o.name, tuple(c.email for c in o.contacts)) for o in found]
    ack_due, remediation_due = _deadlines(session, content, policy, now)
    report = PublishReport(row.ref, row.version, len(targets), 0, 0)
    for target in targets:
        response = existing.get(target.organisation)
        if response is None:
            session.add(
                ResponseRow(
                    alert_id=row.id, org_code=target.organisation, notified_at=now,
                    notified_version=row.version, ack_due=ack_due, remediation_due=remediation_due,
                    status="open",
                )
            )  # fmt: skip
        else:
            response.notified_version = row.version
        ok = notify_organisation(
            session, smtp, alert_id=row.id, version=row.version, org_code=target.organisation,
            kind=kind, message=alert_message(row.ref, row.version, content, target, kind),
        )  # fmt: skip
        if target.contacts:
            report.emails_sent += ok
            report.emails_failed += not ok
        report.targets.append(target.organisation)
    session.flush()
    return report


def publish(
    session: Session,
    ref: str,
    *,
    actor: Actor,
    policy: Policy,
    smtp: SmtpConfig,
    now: datetime | None = None,
) -> PublishReport:
    """Publish a draft: notify each affected organisation and open its response; audited."""
    row = _alert_in(session, ref, "draft", "is already published: revise it to change it")
    moment = now or utcnow()
    current = current_version(session, row)
    row.status, row.published_at = "published", moment
    current.published_at = moment
    report = _notify_all(session, row, version_content(current), policy, smtp, "publish", moment)
    audit.record(
        session, actor, "advisory.publish", f"advisory:{row.ref}", before={"status": "draft"},
        after={"status": "published", "version": row.version, "organisations": report.targets},
    )  # fmt: skip
    return report


def revise(
    session: Session,
    ref: str,
    content: AlertContent,
    *,
    note: str,
    actor: Actor,
    policy: Policy,
    smtp: SmtpConfig,
    now: datetime | None = None,
) -> PublishReport:
    """Publish a new version of a published alert and notify everyone it reaches again; audited."""
    row = _alert_in(session, ref, "published", "is a draft: edit it, or publish it first")
    if not note.strip():
        msg = "a revision needs a note saying what changed"
        raise InputError(msg)
    moment = now or utcnow()
    content = content.validated()
    before = _content_dict(version_content(current_version(session, row)))
    row.version += 1
    version = _version_row(row.id, row.version, content, str(actor), note.strip()[:1000])
    version.published_at = moment
    session.add(version)
    session.flush()
    report = _notify_all(session, row, content, policy, smtp, "revision", moment)
    audit.record(
        session,
        actor,
        "advisory.revise",
        f"advisory:{row.ref}",
        before=before,
        after={**_content_dict(content), "version": row.version},
    )
    return report
