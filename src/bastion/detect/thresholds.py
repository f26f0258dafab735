"""The built-in checks' thresholds: set and cleared for everyone or one organisation, audited.

Stored in ``detect_rule_thresholds`` beside the rules' on/off settings and read the
same way: ``load_thresholds`` gives the pipeline the ``CheckThresholds`` in force
(``load_tuning`` folds them into the detector's ``Tuning``), ``threshold_settings``
what a caller may see of them, scoped in SQL to its organisations, and
``tune_threshold`` is the one door that changes one, recording it in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.timeutil import as_utc, utcnow
from bastion.detect.builtin import BUILTIN_CHECKS, CheckThresholds, Threshold, check_threshold
from bastion.detect.models import ALL_ORGANISATIONS, RuleThresholdRow, scoped
from bastion.orgs import get_organisation


@dataclass(frozen=True)
class ThresholdSetting:
    """One threshold set for a check: for everyone (``org`` None) or one organisation."""

    rule_id: str
    name: str
    org: str | None
    value: int
    updated_at: datetime


@dataclass(frozen=True)
class ThresholdView(Threshold):
    """One threshold of a check as a caller sees it: the threshold, its national value and its own.

    ``value`` is what applies where the caller looks: ``org``'s own value when it has
    one, else the national value. ``per_org`` holds the organisations' own values that
    the caller may see.
    """

    rule_id: str
    national: int
    org: str | None
    value: int
    per_org: dict[str, int]


def threshold_settings(
    session: Session, *, rule_id: str | None = None, orgs: Sequence[str] | None = None
) -> list[ThresholdSetting]:
    """Return the thresholds set: national ones, and those of ``orgs`` (None: every organisation).

    A member sees its own organisations' thresholds only: ``orgs`` is applied in SQL.
    """
    query = scoped(RuleThresholdRow, rule_id=rule_id, orgs=orgs)
    order = (RuleThresholdRow.rule_id, RuleThresholdRow.name, RuleThresholdRow.org_code)
    return [
        ThresholdSetting(r.rule_id, r.name, r.org_code or None, r.value, as_utc(r.updated_at))
        for r in session.scalars(query.order_by(*order))
    ]


def thresholds_of(settings: Sequence[ThresholdSetting]) -> CheckThresholds:
    """Return the thresholds in force given the ones set (settings of unknown checks ignored)."""
    known = {(c.id, t.name) for c in BUILTIN_CHECKS for t in c.thresholds}
    kept = [s for s in settings if (s.rule_id, s.name) in known]
    return CheckThresholds(
        national={(s.rule_id, s.name): s.value for s in kept if s.org is None},
        per_org={(s.rule_id, s.name, s.org): s.value for s in kept if s.org is not None},
    )


def load_thresholds(session: Session) -> CheckThresholds:
    """Read every threshold set, nationally and per organisation, for the pipeline."""
    return thresholds_of(threshold_settings(session))


def threshold_views(
    rule_id: str, current: CheckThresholds, org: str | None = None
) -> list[ThresholdView]:
    """Return each threshold of a built-in check (none for another rule) as ``current`` sets it."""
    check = next((c for c in BUILTIN_CHECKS if c.id == rule_id), None)
    if check is None:
        return []
    return [
        ThresholdView(
            **vars(t),
            rule_id=rule_id,
            national=current.value(rule_id, t.name),
            org=org,
            value=current.value(rule_id, t.name, org),
            per_org={
                o: v for (c, n, o), v in current.per_org.items() if (c, n) == (rule_id, t.name)
            },
        )
        for t in check.thresholds
    ]


def tune_threshold(
    session: Session,
    actor: Actor,
    rule_id: str,
    name: str,
    value: int | None,
    *,
    org: str | None = None,
) -> ThresholdSetting | None:
    """Set a check's threshold (``value`` None: clear it) for everyone or one organisation; audit it.

    Cleared for an organisation, the national value applies to it again; cleared
    nationally, the check's default. An unknown check, threshold or organisation, or a
    value out of the threshold's range, raises (InputError, NotFoundError) and changes
    nothing. The caller has checked that ``actor`` may tune it there. Returns the
    setting now stored, None when cleared.
    """
    threshold = check_threshold(rule_id, name)
    if value is not None:
        threshold.validate(rule_id, value)
    code = get_organisation(session, org).code if org is not None else ALL_ORGANISATIONS
    row = session.scalar(
        select(RuleThresholdRow).where(
            RuleThresholdRow.rule_id == rule_id,
            RuleThresholdRow.org_code == code,
            RuleThresholdRow.name == name,
        )
    )
    before = {"name": name, "value": row.value if row is not None else None}
    now = utcnow()
    if value is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(
            RuleThresholdRow(rule_id=rule_id, org_code=code, name=name, value=value, updated_at=now)
        )
    else:
        row.value, row.updated_at = value, now
    session.flush()
    audit.record(
        session,
        actor,
        "rule.threshold.clear" if value is None else "rule.threshold.set",
        f"rule:{rule_id}",
        org=code or None,
        before=before,
        after={"name": name, "value": value},
    )
    return None if value is None else ThresholdSetting(rule_id, name, code or None, value, now)
