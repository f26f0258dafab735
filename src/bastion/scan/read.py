"""Reading findings: one, a page, an organisation's report, the national view."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from bastion import orgs
from bastion.core.records import from_row, must_exist
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.core.types import Severity
from bastion.scan.domain import Finding, Status
from bastion.scan.models import ScanFindingRow, ScanNotificationRow, ScanTargetRow
from bastion.scan.policy import get_policy
from bastion.scan.remediation import render
from bastion.store.membership import one_of
from bastion.store.paging import page_of

LIVE = (Status.OPEN.value, Status.FIXED_UNCONFIRMED.value)
# How much each live finding weighs when ranking the worst hosts.
WEIGHTS = {"critical": 100, "high": 25, "medium": 5, "low": 1, "informational": 0}


def to_finding(row: ScanFindingRow) -> Finding:
    return from_row(
        Finding,
        row,
        org=row.org_code,
        check=row.check_name,
        severity=Severity(row.severity),
        status=Status(row.status),
        seen_at=tuple(row.seen_at),
    )


def finding_row(session: Session, scope: Scope, finding_id: int) -> ScanFindingRow:
    """Return the row of a finding ``scope`` may see, or raise NotFoundError."""
    return scope.visible(session.get(ScanFindingRow, finding_id), f"no scan finding {finding_id}")


def get_finding(session: Session, scope: Scope, finding_id: int) -> Finding:
    """Return one finding ``scope`` may see."""
    return to_finding(finding_row(session, scope, finding_id))


def remediation_text(finding: Finding) -> str:
    """Return the finding's remediation, written for a practice's IT lead."""
    return render(finding.remediation, host=finding.host, port=finding.port, params=finding.params)


def list_findings(
    session: Session,
    scope: Scope,
    *,
    org: str | None = None,
    status: str | None = None,
    severity: str | None = None,
    check: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Finding], int]:
    """Return one page of the findings ``scope`` may see, worst first, and how many match."""
    row = ScanFindingRow
    query = select(row)
    if scope.codes is not None:
        query = query.where(one_of(row.org_code, scope.codes))
    if org:
        query = query.where(row.org_code == org.strip().upper())
    if status:
        query = query.where(row.status == Status(status).value)
    if severity:
        query = query.where(row.severity == Severity(severity).value)
    if check:
        query = query.where(row.check_name == check)
    rank = case({s.value: -s.rank for s in Severity}, value=row.severity, else_=0)
    rows, total = page_of(
        session, query, rank, row.org_code, row.host, row.id, limit=limit, offset=offset
    )
    return [to_finding(r) for r in rows], total


@dataclass(frozen=True)
class HostSummary:
    """One host's last scan and its live findings."""

    org: str
    host: str
    last_scan_at: str | None
    results: dict[str, Any]
    live: int
    worst: str | None
    score: int


def organisation_report(session: Session, scope: Scope, org: str) -> dict[str, Any]:
    """Return an organisation's report: live findings by severity, each host's grades, findings."""
    code = org.strip().upper()
    if not scope.allows(code):
        must_exist(None, f"no organisation with code {org!r}")
    organisation = orgs.get_organisation(session, code)
    findings, _ = list_findings(session, scope, org=code)
    live = [f for f in findings if f.status.value in LIVE]
    hosts = []
    for target in session.scalars(
        select(ScanTargetRow).where(ScanTargetRow.org_code == code).order_by(ScanTargetRow.host)
    ):
        mine = [f for f in live if f.host == target.host]
        hosts.append(
            HostSummary(
                org=code,
                host=target.host,
                last_scan_at=target.last_scan_at.isoformat() if target.last_scan_at else None,
                results=target.summary or {},
                live=len(mine),
                worst=max(mine, key=lambda f: f.severity.rank).severity.value if mine else None,
                score=sum(WEIGHTS[f.severity.value] for f in mine),
            )
        )
    return {
        "org": code,
        "name": organisation.name,
        "live_by_severity": dict(Counter(f.severity.value for f in live)),
        "by_status": dict(Counter(f.status.value for f in findings)),
        "hosts": hosts,
        "findings": [
            {**finding_json(f), "remediation_text": remediation_text(f)} for f in findings
        ],
        "notices": sent_notices(session, code, limit=10),
        "dkim_selectors": list(get_policy(session, code).dkim_selectors),
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    """Return a finding as the API and reports show it (without its params and remediation)."""
    return {
        "id": finding.id,
        "org": finding.org,
        "host": finding.host,
        "port": finding.port,
        "check": finding.check,
        "detail": finding.detail,
        "title": finding.title,
        "severity": finding.severity.value,
        "status": finding.status.value,
        "first_seen": finding.first_seen.isoformat(),
        "last_seen": finding.last_seen.isoformat(),
        "evidence": finding.evidence,
        "seen_at": list(finding.seen_at),
    }


def week_of(moment: datetime) -> date:
    """Return the Monday (UTC) of ``moment``'s week."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


def weekly_trend(
    session: Session, scope: Scope, *, weeks: int = 12, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Return findings opened and closed per week (Monday, UTC) by severity, oldest week first.

    A finding counts as opened in the week it was first seen, and as closed in the
    week its confirming rescan closed it (a finding reopened since is not closed).
    """
    last = week_of(now or utcnow())
    mondays = [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    start = datetime.combine(mondays[0], time(), tzinfo=UTC)
    row = ScanFindingRow
    tally: dict[str, Counter[tuple[date, str]]] = {"opened": Counter(), "closed": Counter()}
    for kind, when, extra in (
        ("opened", row.first_seen, None),
        ("closed", row.status_changed_at, row.status == Status.CLOSED.value),
    ):
        query = select(when, row.severity).where(when >= start)
        if extra is not None:
            query = query.where(extra)
        if scope.codes is not None:
            query = query.where(one_of(row.org_code, scope.codes))
        for moment, severity in session.execute(query):
            tally[kind][(week_of(moment), severity)] += 1
    order = [s.value for s in reversed(Severity) if s is not Severity.INFORMATIONAL]
    return [
        {
            "week": monday.isoformat(),
            **{kind: {s: tally[kind][(monday, s)] for s in order} for kind in tally},
        }
        for monday in mondays
    ]


def national_summary(
    session: Session,
    scope: Scope,
    *,
    worst: int = 10,
    weeks: int = 12,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Return live findings by check, severity and region, the worst hosts, the weekly trend."""
    row = ScanFindingRow
    query = select(row.org_code, row.host, row.check_name, row.severity).where(row.status.in_(LIVE))
    if scope.codes is not None:
        query = query.where(one_of(row.org_code, scope.codes))
    rows = session.execute(query).all()
    regions = orgs.top_ancestors(session, {r[0] for r in rows})
    by_check: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    by_region: Counter[str] = Counter()
    hosts: Counter[tuple[str, str]] = Counter()
    for org, host, check, severity in rows:
        by_check[check] += 1
        by_severity[severity] += 1
        by_region[regions.get(org, org)] += 1
        hosts[(org, host)] += WEIGHTS.get(severity, 0)
    return {
        "live": len(rows),
        "by_check": dict(by_check.most_common()),
        "by_severity": {s.value: by_severity[s.value] for s in reversed(Severity)},
        "by_region": dict(by_region.most_common()),
        "worst_hosts": [
            {"org": org, "host": host, "score": score}
            for (org, host), score in hosts.most_common(worst)
        ],
        "trend": weekly_trend(session, scope, weeks=weeks, now=now),
    }


def sent_notices(session: Session, org: str, *, limit: int = 20) -> list[dict[str, object]]:
    """Return the latest digests and reminders tried for ``org``, newest first."""
    row = ScanNotificationRow
    rows = session.scalars(
        select(row)
        .where(row.org_code == org)
        .order_by(row.sent_at.desc(), row.id.desc())
        .limit(limit)
    )
    return [
        {
            "kind": r.kind,
            "channel": r.channel,
            # a webhook's URL may carry its secret: only its host is shown
            "recipient": r.recipient if r.channel == "email" else urlsplit(r.recipient).netloc,
            "status": r.status,
            "attempts": r.attempts,
            "error": r.error,
            "findings": list(r.findings),
            "sent_at": r.sent_at.isoformat(),
        }
        for r in rows
    ]
