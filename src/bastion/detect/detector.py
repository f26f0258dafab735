"""The boundary pipeline's detect stage: rule hits → alert candidates, with per-organisation tuning.

``Detector.candidates(events)`` evaluates the rule set over a batch and returns one
alert candidate per (alerting rule, event) in ``CANDIDATE_SCHEMA``: kind ``rule``, key
``sigma:<rule id>``, the rule's title, its level as severity, ``indicator.type``
``sigma-rule`` with the rule id as value and its ATT&CK tags in ``indicator.threat``,
so the alert store and console show them beside indicator alerts unchanged.

Rules switched off globally are not evaluated; rules switched off for an organisation
are evaluated but raise nothing for its events; base rules of a ``generate: false``
correlation raise nothing themselves (their hits are for the correlation engine).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bastion.boundary.alerts import CANDIDATE_SCHEMA, AlertKind
from bastion.core.errors import NotFoundError
from bastion.core.settings import Settings
from bastion.core.timeutil import utcnow
from bastion.detect.engine import ROW, RuleSet
from bastion.detect.loader import load_rules
from bastion.detect.models import ALL_ORGANISATIONS, RuleSettingRow
from bastion.detect.rules import RuleStatus

log = logging.getLogger(__name__)

KEY_PREFIX = "sigma:"
INDICATOR_TYPE = "sigma-rule"
_THREAT_LIMIT = 200


def alert_key(rule_id: str) -> str:
    """The alert key of a rule's alerts."""
    return f"{KEY_PREFIX}{rule_id}"


@dataclass(frozen=True)
class Tuning:
    """Which rules are off: for every organisation, or for some."""

    disabled: frozenset[str] = frozenset()
    disabled_for: frozenset[tuple[str, str]] = frozenset()  # (rule id, organisation code)


@dataclass
class Detector:
    """Runs a rule set over each batch and turns its hits into alert candidates."""

    rules: RuleSet
    tuning: Tuning = field(default_factory=Tuning)
    hit_counts: Counter[str] = field(default_factory=Counter)  # since this detector started
    _active: RuleSet = field(init=False, repr=False)
    _meta: pl.DataFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        active = [r for r in self.rules.rules if r.id not in self.tuning.disabled]
        self._active = RuleSet(active, self.rules.correlations)
        self._meta = pl.DataFrame(
            {
                "rule.id": [r.id for r in active],
                "_alert": [r.alert for r in active],
                "_severity": [r.severity.value for r in active],
                "_threat": [", ".join(r.attack)[:_THREAT_LIMIT] or None for r in active],
            },
            schema={
                "rule.id": pl.String(),
                "_alert": pl.Boolean(),
                "_severity": pl.String(),
                "_threat": pl.String(),
            },
        )

    @property
    def active(self) -> RuleSet:
        """The rules this detector evaluates (those not switched off for everyone)."""
        return self._active

    def hits(self, events: pl.DataFrame) -> pl.DataFrame:
        """Evaluate the active rules; count hits per rule."""
        hits = self._active.evaluate(events)
        if hits.height:
            counts = hits.group_by("rule.id").len()
            self.hit_counts.update(dict(counts.iter_rows()))
        return hits

    def candidates(self, events: pl.DataFrame) -> pl.DataFrame:
        """Return the batch's rule alert candidates (``CANDIDATE_SCHEMA``)."""
        hits = self.hits(events)
        if hits.height == 0:
            return pl.DataFrame(schema=CANDIDATE_SCHEMA)
        columns = [c for c in [*CANDIDATE_SCHEMA, "event.type"] if c in events.columns]
        picked = hits.join(self._meta, on="rule.id", how="left").filter(pl.col("_alert"))
        found = events.select(pl.col(columns).gather(picked.get_column(ROW)))
        joined = picked.hstack(found)
        if self.tuning.disabled_for and "organization.id" in joined.columns:
            off = pl.DataFrame(
                list(self.tuning.disabled_for),
                schema={"rule.id": pl.String(), "organization.id": pl.String()},
                orient="row",
            )
            joined = joined.join(off, on=["rule.id", "organization.id"], how="anti")
        missing = [pl.lit(None, CANDIDATE_SCHEMA[c]).alias(c) for c in CANDIDATE_SCHEMA]
        base = {e.meta.output_name(): e for e in missing}
        base.update(
            {
                "kind": pl.lit(AlertKind.RULE.value),
                "key": pl.lit(KEY_PREFIX) + pl.col("rule.id"),
                "title": pl.col("rule.title"),
                "severity": pl.col("_severity"),
                "blocked": (pl.col("event.type") == "denied").fill_null(value=False)
                if "event.type" in joined.columns
                else pl.lit(value=False),
                "indicator.type": pl.lit(INDICATOR_TYPE),
                "indicator.value": pl.col("rule.id"),
                "indicator.source": pl.lit("sigma"),
                "indicator.threat": pl.col("_threat"),
            }
        )
        for name in columns:
            if name in CANDIDATE_SCHEMA and name not in {
                "kind",
                "key",
                "title",
                "severity",
                "blocked",
            }:
                base[name] = pl.col(name)
        return joined.select([base[c].cast(CANDIDATE_SCHEMA[c]).alias(c) for c in CANDIDATE_SCHEMA])

    @classmethod
    def open(cls, session: Session, settings: Settings, paths: Iterable[Path] = ()) -> Detector:
        """Load the rules folder of ``settings`` (if it exists) and extra ``paths``, with tuning."""
        folders = [p for p in (settings.rules_dir,) if p.is_dir()] + list(paths)
        loaded = load_rules(folders, placeholders=settings.rule_placeholders)
        rules = RuleSet(loaded.rules, loaded.correlations, loaded.reports)
        for report in loaded.reports:
            if report.status in (RuleStatus.INVALID, RuleStatus.UNSUPPORTED):
                log.warning("rule not run: %s: %s", report.path, report.reason)
        return cls(rules, load_tuning(session))


def load_tuning(session: Session) -> Tuning:
    """Read which rules are switched off, globally and per organisation."""
    rows = session.scalars(select(RuleSettingRow).where(RuleSettingRow.enabled.is_(False)))
    disabled, disabled_for = set(), set()
    for row in rows:
        if row.org_code == ALL_ORGANISATIONS:
            disabled.add(row.rule_id)
        else:
            disabled_for.add((row.rule_id, row.org_code))
    return Tuning(frozenset(disabled), frozenset(disabled_for))


def set_enabled(session: Session, rule_id: str, *, enabled: bool, org: str | None = None) -> None:
    """Switch a rule on or off for everyone, or for one organisation (flushes, no commit)."""
    code = org or ALL_ORGANISATIONS
    if org is not None:
        from bastion.orgs import get_organisation

        code = get_organisation(session, org).code
    session.execute(
        delete(RuleSettingRow).where(
            RuleSettingRow.rule_id == rule_id, RuleSettingRow.org_code == code
        )
    )
    if not enabled or org is not None:
        # an organisation's "on" is stored too: it is a record that someone decided
        session.add(
            RuleSettingRow(rule_id=rule_id, org_code=code, enabled=enabled, updated_at=utcnow())
        )
    session.flush()


def require_rule(rules: RuleSet, rule_id: str) -> None:
    """Raise ``NotFoundError`` unless the rule set holds ``rule_id``."""
    if not any(r.id == rule_id for r in rules.rules):
        msg = f"no compiled rule has id {rule_id!r}; see 'bastion rules list'"
        raise NotFoundError(msg)
