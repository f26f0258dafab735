"""Telemetry against published claims: pre-fill a return from evidence, flag drift, raise alerts.

``prefill`` answers a return's unanswered statements from the providers' findings
and links the evidence on their outcomes. ``detect_drift`` compares findings
marked as drift with published returns: a finding that a statement is not met,
while the return published its outcome at the best status (Achieved, Met), flags
the return and raises an alert for the organisation through ``bastion.alerts``
(the national team sees every alert).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.alerts import record_alerts
from bastion.assure.catalogue import get_framework
from bastion.assure.evidence import Finding
from bastion.assure.models import ReturnRow
from bastion.assure.providers import gather
from bastion.assure.returns import view, visible_row
from bastion.assure.rules import marks_of
from bastion.assure.views import ReturnView, answers_of
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.core.timeutil import as_utc, utcnow
from bastion.orgs import organisation_ids
from bastion.store.membership import one_of


def prefill(
    session: Session,
    return_id: int,
    *,
    actor: Actor,
    scope: Scope,
    now: datetime | None = None,
    findings: Sequence[Finding] | None = None,
) -> ReturnView:
    """Answer the return's unanswered statements from Bastion's evidence, with links; audited."""
    row = visible_row(session, return_id, scope)
    framework = get_framework(session, row.framework)
    found = (
        list(findings) if findings is not None else gather(session, row.org_code, now or utcnow())
    )
    answers = answers_of(framework, row.marks)
    evidence = {k: list(v) for k, v in row.evidence.items()}
    comments = dict(row.comments)
    filled: dict[str, bool] = {}
    for finding in found:
        for ref in finding.statements:
            key, _, sid = ref.partition(":")
            if key != framework.key or sid not in framework.statement_index:
                continue
            outcome = framework.outcome_of_statement[sid]
            if finding.link not in evidence.get(outcome, []):
                evidence[outcome] = [*evidence.get(outcome, []), finding.link]
            if answers.get(sid) is None:
                filled[sid] = answers[sid] = finding.met
                comments.setdefault(sid, {"text": f"Bastion ({finding.provider}): {finding.summary}",
                                          "alternative": ""})  # fmt: skip
    row.marks = marks_of(framework, answers)
    row.evidence, row.comments, row.updated_at = evidence, comments, utcnow()
    audit.record(session, actor, "assure.return.prefill", f"return:{row.id}", org=row.org_code,
                 after={"answers": filled, "providers": sorted({f.provider for f in found})})  # fmt: skip
    return view(session, row)


@dataclass(frozen=True)
class DriftFlag:
    """A published claim telemetry contradicts."""

    return_id: int
    org: str
    framework: str
    outcome: str
    statement: str
    provider: str
    summary: str
    link: str


def _flags(session: Session, row: ReturnRow, findings: Sequence[Finding]) -> list[DriftFlag]:
    framework = get_framework(session, row.framework)
    best = "0"
    published = dict(zip((o.id for o in framework.outcomes), row.outcome_marks, strict=False))
    flags = []
    for finding in findings:
        if not finding.drift or finding.met:
            continue
        for ref in finding.statements:
            key, _, sid = ref.partition(":")
            outcome = framework.outcome_of_statement.get(sid) if key == framework.key else None
            if outcome is not None and published.get(outcome) == best:
                flags.append(DriftFlag(row.id, row.org_code, row.framework, outcome, sid,
                                       finding.provider, finding.summary, finding.link))  # fmt: skip
    return flags


def detect_drift(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    now: datetime | None = None,
    orgs: Sequence[str] | None = None,
) -> list[DriftFlag]:
    """Flag published returns (in ``scope``, of ``orgs`` if given) that telemetry contradicts;
    alert each organisation."""
    moment = as_utc(now or utcnow())
    query = select(ReturnRow).where(ReturnRow.version > 0, ReturnRow.source != "snapshot")
    if scope.codes is not None:
        query = query.where(one_of(ReturnRow.org_code, scope.codes))
    if orgs is not None:
        query = query.where(one_of(ReturnRow.org_code, [o.strip().upper() for o in orgs]))
    rows = list(session.scalars(query.order_by(ReturnRow.org_code, ReturnRow.period)))
    known = set(organisation_ids(session))  # telemetry is only held on the federation's members
    latest: dict[tuple[str, str], ReturnRow] = {}
    for row in rows:  # the latest period of each organisation and framework
        if row.org_code in known:
            latest[(row.org_code, row.framework.partition("@")[0])] = row
    findings: dict[str, list[Finding]] = {}
    flagged: list[DriftFlag] = []
    for row in latest.values():
        if row.org_code not in findings:
            findings[row.org_code] = gather(session, row.org_code, moment)
        flags = _flags(session, row, findings[row.org_code])
        fresh = [f.__dict__ for f in flags]
        if fresh != list(row.drift or []):
            audit.record(session, actor, "assure.return.drift", f"return:{row.id}", org=row.org_code,
                         before={"drift": row.drift}, after={"drift": fresh})  # fmt: skip
            row.drift, row.drift_count, row.updated_at = fresh, len(fresh), moment
        flagged += flags
    if flagged:
        record_alerts(session, _alert_candidates(flagged, moment), now=moment)
    return flagged


def _alert_candidates(flags: Sequence[DriftFlag], moment: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "organization.id": f.org, "@timestamp": moment, "kind": "rule",
                "key": f"assure-drift:{f.framework.partition('@')[0]}:{f.outcome}",
                "title": f"Assurance drift: {f.framework} outcome {f.outcome} published as met, "
                         f"but {f.summary}"[:300],
                "severity": "high", "event.dataset": "assure.drift",
                "event.original": f"return {f.return_id} statement {f.statement} ({f.provider}): {f.link}",
            }
            for f in flags
        ]
    )  # fmt: skip
