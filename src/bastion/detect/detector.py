"""The boundary pipeline's detect stage: rule hits → alert candidates, with per-organisation tuning.

``candidates, state = detector.run(events, state)`` evaluates the rule set over a
batch and returns one alert candidate per (alerting rule, event) in
``CANDIDATE_SCHEMA``, with the correlation state after the batch: kind ``rule``, key
``sigma:<rule id>``, the rule's title, its level as severity, ``indicator.type``
``sigma-rule`` with the rule id as value and its ATT&CK tags in ``indicator.threat``,
so the alert store and console show them beside indicator alerts unchanged.

Rules switched off globally are not evaluated; rules switched off for an organisation
are evaluated but raise nothing for its events; base rules of a ``generate: false``
correlation raise nothing themselves (their hits are for the correlation engine).

Correlation rules of the rule set run in the same stage: the base rules' hits of each
batch feed a ``CorrelationEngine`` (with the Sigma → ECS field map) and its firings
become alert candidates too, keyed ``sigma:<correlation id> <group>``. The detector
holds no windows itself: ``run`` takes a ``CorrelationState`` and returns the next one,
leaving the one it was given as it was. Its caller keeps the state between batches and
stores it in SQL with the batch (``save_state`` in the batch's transaction,
``load_state`` when a pipeline opens; see ``boundary.pipeline``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.errors import NotFoundError
from bastion.core.events import CANDIDATE_SCHEMA, AlertKind, remote_address
from bastion.core.settings import Settings
from bastion.core.timeutil import as_utc, utcnow
from bastion.detect.builtin import BUILTIN_IDS, CheckThresholds
from bastion.detect.correlation import CorrelationEngine, CorrelationState, correlation_candidates
from bastion.detect.correlation import load as load_windows
from bastion.detect.correlation import save as save_windows
from bastion.detect.correlation_compiler import build_engine, compile_correlations, report_failures
from bastion.detect.engine import ROW, RuleSet
from bastion.detect.loader import load_rules
from bastion.detect.models import ALL_ORGANISATIONS, RuleSettingRow, scoped
from bastion.detect.rules import RuleStatus
from bastion.detect.thresholds import load_thresholds
from bastion.orgs import get_organisation

log = logging.getLogger(__name__)

KEY_PREFIX = "sigma:"
INDICATOR_TYPE = "sigma-rule"
_THREAT_LIMIT = 200
_KEY_LIMIT = 200  # alerts.key


def alert_key(rule_id: str) -> str:
    """The alert key of a rule's alerts (a built-in check's keys start with its id)."""
    return rule_id if rule_id in BUILTIN_IDS else f"{KEY_PREFIX}{rule_id}"


@dataclass(frozen=True)
class Tuning:
    """Which rules are off, for every organisation or for some; the built-in checks' thresholds."""

    disabled: frozenset[str] = frozenset()
    disabled_for: frozenset[tuple[str, str]] = frozenset()  # (rule id, organisation code)
    thresholds: CheckThresholds = field(default_factory=CheckThresholds)


@dataclass
class Detector:
    """Runs a rule set over each batch and turns its hits into alert candidates.

    Set up once from its rules and tuning, and not changed by ``run``: the correlation
    windows are the state passed in and returned.
    """

    rules: RuleSet
    tuning: Tuning = field(default_factory=Tuning)
    partition: str = "default"  # whose correlation windows these are (one per worker partition)
    correlation: CorrelationEngine | None = field(init=False, default=None)
    _active: RuleSet = field(init=False, repr=False)
    _meta: pl.DataFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        active = [r for r in self.rules.rules if r.id not in self.tuning.disabled]
        correlations = [
            c for c in self.rules.correlations if str(c.id or c.name) not in self.tuning.disabled
        ]
        self._active = RuleSet(active, correlations)
        self.correlation, _ = build_engine(correlations)
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
        """Evaluate the active rules over a batch (``HIT_SCHEMA``)."""
        return self._active.evaluate(events)

    def run(
        self, events: pl.DataFrame, state: CorrelationState
    ) -> tuple[pl.DataFrame, CorrelationState]:
        """Return the batch's rule and correlation alert candidates, and the state after it.

        The candidates are in ``CANDIDATE_SCHEMA``. The correlation windows of ``state``
        are advanced by this batch into a new state; ``state`` itself is left as it was
        (and is returned unchanged when the rule set has no correlation).
        """
        hits = self.hits(events)
        if self.correlation is None:
            return self._rule_candidates(events, hits), state
        firings, state = self.correlation.process(events, hits, state)
        fired = correlation_candidates(firings).with_columns(
            (pl.lit(KEY_PREFIX) + pl.col("key")).str.slice(0, _KEY_LIMIT).alias("key")
        )
        standalone = self.correlation.standalone_hits(hits)
        return pl.concat([self._rule_candidates(events, standalone), fired]), state

    def load_state(self, session: Session) -> CorrelationState:
        """Read the correlation state last committed under this detector's partition."""
        if self.correlation is None:
            return CorrelationState()
        state, report = load_windows(self.correlation, session, partition=self.partition)
        for key in report.discarded:
            log.info("correlation %s changed: its stored windows start again empty", key)
        return state

    def save_state(self, session: Session, state: CorrelationState) -> None:
        """Add ``state`` to ``session`` (flushed, to be committed with the batch that made it)."""
        if self.correlation is not None:
            save_windows(self.correlation, state, session, partition=self.partition)

    def _rule_candidates(self, events: pl.DataFrame, hits: pl.DataFrame) -> pl.DataFrame:
        if hits.height == 0:
            return pl.DataFrame(schema=CANDIDATE_SCHEMA)
        wanted = [*CANDIDATE_SCHEMA, "event.type", "source.ip", "destination.ip"]
        columns = [c for c in wanted if c in events.columns]
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
        if {"host.ip", "source.ip", "destination.ip"} <= set(joined.columns):
            base["observable"] = remote_address()
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
    def open(
        cls,
        session: Session,
        settings: Settings,
        paths: Iterable[Path] = (),
        *,
        partition: str = "default",
    ) -> Detector:
        """Load the rules folder of ``settings`` (if it exists) and extra ``paths``, with tuning.

        ``partition`` names whose correlation state ``load_state``/``save_state`` read and write.
        """
        folders = [p for p in (settings.rules_dir,) if p.is_dir()] + list(paths)
        loaded = load_rules(folders, placeholders=settings.rule_placeholders)
        kept, failed = compile_correlations(loaded.correlations)
        reports = report_failures(loaded.correlations, failed, loaded.reports)
        rules = RuleSet(loaded.rules, kept, reports)
        for report in reports:
            if report.status in (RuleStatus.INVALID, RuleStatus.UNSUPPORTED):
                log.warning("rule not run: %s: %s", report.path, report.reason)
        return cls(rules, load_tuning(session), partition=partition)


def load_tuning(session: Session) -> Tuning:
    """Read which rules are switched off and the checks' thresholds, globally and per organisation."""
    rows = session.scalars(select(RuleSettingRow).where(RuleSettingRow.enabled.is_(False)))
    disabled, disabled_for = set(), set()
    for row in rows:
        if row.org_code == ALL_ORGANISATIONS:
            disabled.add(row.rule_id)
        else:
            disabled_for.add((row.rule_id, row.org_code))
    return Tuning(frozenset(disabled), frozenset(disabled_for), load_thresholds(session))


def set_enabled(session: Session, rule_id: str, *, enabled: bool, org: str | None = None) -> None:
    """Switch a rule on or off for everyone, or for one organisation (flushes, no commit)."""
    code = org or ALL_ORGANISATIONS
    if org is not None:
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
    known = {r.id for r in rules.rules} | {str(c.id or c.name) for c in rules.correlations}
    known |= BUILTIN_IDS  # the built-in checks are rules too
    if rule_id not in known:
        msg = f"no compiled rule has id {rule_id!r}; see 'bastion rules list'"
        raise NotFoundError(msg)


@dataclass(frozen=True)
class RuleSetting:
    """One decision about a rule: on or off, for everyone (``org`` None) or one organisation."""

    rule_id: str
    org: str | None
    enabled: bool
    updated_at: datetime


def rule_settings(
    session: Session, *, rule_id: str | None = None, orgs: Sequence[str] | None = None
) -> list[RuleSetting]:
    """Return the rules' settings: global ones, and per-organisation ones of ``orgs`` (None: all).

    A member sees its own organisations' tuning only: ``orgs`` is applied in SQL.
    """
    query = scoped(RuleSettingRow, rule_id=rule_id, orgs=orgs)
    rows = session.scalars(query.order_by(RuleSettingRow.rule_id, RuleSettingRow.org_code))
    return [
        RuleSetting(r.rule_id, r.org_code or None, r.enabled, as_utc(r.updated_at)) for r in rows
    ]


def tune_rule(
    session: Session, actor: Actor, rule_id: str, *, enabled: bool, org: str | None = None
) -> RuleSetting:
    """Switch a rule on or off for everyone or for one organisation, and audit the change.

    The caller has checked the rule exists and that ``actor`` may tune it there; an
    unknown organisation raises NotFoundError.
    """
    code = get_organisation(session, org).code if org is not None else ALL_ORGANISATIONS
    row = session.scalar(
        select(RuleSettingRow).where(
            RuleSettingRow.rule_id == rule_id, RuleSettingRow.org_code == code
        )
    )
    before = {"enabled": row.enabled if row is not None else None}
    set_enabled(session, rule_id, enabled=enabled, org=code or None)
    audit.record(
        session,
        actor,
        "rule.enable" if enabled else "rule.disable",
        f"rule:{rule_id}",
        org=code or None,
        before=before,
        after={"enabled": enabled},
    )
    return RuleSetting(rule_id, code or None, enabled, utcnow())
