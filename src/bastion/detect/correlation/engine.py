"""The correlation engine: base-rule hits in, correlation firings out, batch after batch.

``firings, state = engine.process(events, hits, state)`` takes one batch's
events (the common ECS schema), the base-rule engine's hits frame for it (one
row per rule and matching event: ``rule.id``, ``rule.name``, ``rule.title``,
``rule.level``, ``row`` into ``events``) and the windows so far, and returns one
row per firing in ``FIRING_SCHEMA`` with the windows after the batch. Windows
span batches: each correlation keeps the observations of the last timespan
(measured back from the newest event time seen, the *watermark*) and drops the
rest, so its state is bounded by its timespan.

The engine holds only the compiled rules; the windows are a value,
``CorrelationState``. ``process`` never changes the state it is given (the
frames in it are never written in place, and Polars shares their buffers
copy-on-write), so a caller can drop a new state (a batch that turns out to be
committed already) and carry on from the old one. ``save``/``load`` keep a
state in SQL (see ``state``).

Correlations run in reference order, so a chained correlation sees in the
same batch the firings of the correlation it refers to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import polars as pl

from bastion.core.errors import InputError, Location
from bastion.core.events import TIMESTAMP
from bastion.detect.correlation import observations as obs
from bastion.detect.correlation.rules import CorrelationSpec, compile_rules, parse_correlation_rules
from bastion.detect.correlation.windows import (
    COUNT,
    FIRST,
    METRIC_COL,
    NEW,
    REF,
    SEQ,
    TS,
    evaluate,
    group_columns,
)

EVIDENCE_LIMIT = 10  # evidence events kept per firing (temporal types: the latest of each rule)

EVIDENCE_FIELDS: dict[str, pl.DataType] = {TS: TIMESTAMP, "batch": pl.Int64(), **obs.SUMMARY_SCHEMA}

FIRING_SCHEMA: dict[str, pl.DataType] = {
    "rule.id": pl.String(),  # the correlation's id, else its name, else its title
    "rule.name": pl.String(),
    "rule.title": pl.String(),
    "rule.level": pl.String(),
    "rule.tags": pl.List(pl.String()),
    "correlation.type": pl.String(),
    "correlation.group": pl.String(),  # JSON object: group-by field (or alias) -> value
    TS: TIMESTAMP,  # when it fired: the time of the observation that closed the window
    "correlation.first": TIMESTAMP,  # the window's first contributing observation
    "correlation.last": TIMESTAMP,
    "correlation.value": pl.Float64(),  # the count, sum, average or percentile that fired
    "correlation.events": pl.Int64(),  # observations in the window
    "correlation.timespan": pl.Int64(),  # seconds
    "organization.id": pl.String(),  # the group's, or the one organisation of every event
    "host.ip": pl.String(),
    "correlation.evidence": pl.List(pl.Struct(EVIDENCE_FIELDS)),
    # the device denied every event of the window (decided from each event's event.type)
    "correlation.blocked": pl.Boolean(),
}

_HITS_REQUIRED = ("rule.id", "row")
_FIRING_KEYS = "_fid"


@dataclass(frozen=True)
class ProcessStats:
    """What one ``process`` call did; unplaceable hits are counted, not lost silently."""

    hits: int = 0
    observations: int = 0  # hits of referenced rules (and chained firings) placed in windows
    untimed: int = 0  # observations dropped: their event has no @timestamp
    ungrouped: int = 0  # observations dropped: a group-by field is null in their event
    firings: int = 0
    state_rows: int = 0  # observations held for later windows, over all correlations


@dataclass(frozen=True, eq=False)
class CorrelationState:
    """The open windows of every correlation and the engine's counters, after some batches.

    A value: ``windows`` is a read-only mapping of frames that nobody writes in place,
    so one state can be kept while ``process`` derives the next from it. The empty
    state (``CorrelationState()``) is where a stream with no history starts.
    """

    windows: Mapping[str, pl.DataFrame] = field(default_factory=dict)  # correlation key -> held
    watermark: datetime | None = None  # the newest event time seen
    next_seq: int = 0  # number of the next observation
    batches: int = 0  # batches processed
    last: ProcessStats = field(default_factory=ProcessStats)  # what the batch that made it did

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", MappingProxyType(dict(self.windows)))

    @property
    def rows(self) -> int:
        """Return the number of observations held, over all correlations."""
        return sum(frame.height for frame in self.windows.values())

    def held(self) -> dict[str, pl.DataFrame]:
        """Return the windows of every correlation that holds some observation."""
        return {k: v for k, v in self.windows.items() if not v.is_empty()}


def empty_firings() -> pl.DataFrame:
    """Return an empty frame of firings."""
    return pl.DataFrame(schema=FIRING_SCHEMA)


def _check_hits(hits: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in _HITS_REQUIRED if c not in hits.columns]
    if missing:
        msg = f"hits frame lacks column(s) {', '.join(missing)}; it needs rule.id and row"
        raise InputError(msg, Location(field=missing[0]))
    try:
        frame = hits.select(
            pl.col("rule.id").cast(pl.String),
            (pl.col("rule.name") if "rule.name" in hits.columns else pl.lit(None))
            .cast(pl.String)
            .alias("rule.name"),
            pl.col("row").cast(pl.UInt32),
        )
    except pl.exceptions.PolarsError as exc:
        msg = f"hits frame has a row that is not a row index: {exc}"
        raise InputError(msg, Location(field="row")) from exc
    bad = frame.filter(pl.col("row").is_null() | (pl.col("row") >= events.height))
    if not bad.is_empty():
        msg = (
            f"{bad.height} hit(s) point past the batch's {events.height} events "
            f"(first bad row {bad['row'][0]}, rule {bad['rule.id'][0]!r})"
        )
        raise InputError(msg, Location(field="row"))
    return frame


def _check_events(events: pl.DataFrame) -> pl.DataFrame:
    if TS not in events.columns:
        msg = "events frame has no @timestamp column"
        raise InputError(msg, Location(field=TS))
    dtype = events.schema[TS]
    if not isinstance(dtype, pl.Datetime):
        msg = f"events @timestamp must be a UTC datetime column, not {dtype}"
        raise InputError(msg, Location(field=TS))
    stamp = pl.col(TS)
    if dtype.time_zone is None:
        stamp = stamp.dt.replace_time_zone("UTC")
    return events.with_columns(stamp.dt.convert_time_zone("UTC").cast(TIMESTAMP))


class CorrelationEngine:
    """Evaluate Sigma correlation rules over a stream of hit batches.

    ``rules`` are pySigma rules: the correlation rules to run, and optionally the
    base rules they refer to (only to learn their ids and names). ``field_map``
    maps a Sigma field name of a group-by, alias or value field to the event
    column that holds it (identity where absent).
    """

    def __init__(
        self,
        rules: Iterable[Any],
        *,
        field_map: Mapping[str, str] | None = None,
        evidence_limit: int = EVIDENCE_LIMIT,
    ) -> None:
        self.specs: tuple[CorrelationSpec, ...] = tuple(compile_rules(rules))
        self.field_map: dict[str, str] = dict(field_map or {})
        self.evidence_limit = evidence_limit
        self._by_key = {spec.key: spec for spec in self.specs}
        referenced_by: dict[str, list[CorrelationSpec]] = {}
        for spec in self.specs:
            for ref in spec.references:
                if ref.correlation is not None:
                    referenced_by.setdefault(ref.correlation, []).append(spec)
        # Only the outermost correlation reports, unless one referring to it says `generate`.
        self.reported = frozenset(
            s.key
            for s in self.specs
            if s.key not in referenced_by or any(o.generate for o in referenced_by[s.key])
        )

    @classmethod
    def from_yaml(cls, text: str, **options: Any) -> CorrelationEngine:
        """Build an engine from YAML text holding correlation (and optionally base) rules."""
        return cls(parse_correlation_rules(text).rules, **options)

    def window(self, state: CorrelationState, key: str) -> pl.DataFrame:
        """Return the observations ``state`` holds for the correlation ``key`` (empty if none)."""
        held = state.windows.get(key)
        return held if held is not None else pl.DataFrame(schema=obs.schema(self._by_key[key]))

    def restore(
        self,
        windows: Mapping[str, pl.DataFrame],
        *,
        watermark: datetime | None,
        next_seq: int,
        batches: int,
    ) -> CorrelationState:
        """Build a state of this engine's rules from stored parts; unknown keys are ignored."""
        return CorrelationState(
            {
                key: frame.select(
                    # a column a state saved by an older version lacks starts null
                    pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                    for c, t in obs.schema(self._by_key[key]).items()
                )
                for key, frame in windows.items()
                if key in self._by_key
            },
            watermark=watermark,
            next_seq=next_seq,
            batches=batches,
        )

    def standalone_hits(self, hits: pl.DataFrame) -> pl.DataFrame:
        """Drop the hits of base rules that only correlations use (Sigma ``generate: false``).

        A base rule referred to by a correlation is not an alert on its own unless
        some correlation referring to it says ``generate: true``.
        """
        used: set[str] = set()
        kept: set[str] = set()
        for spec in self.specs:
            for ref in spec.references:
                if ref.correlation is None:
                    (kept if spec.generate else used).update((*ref.ids, *ref.names))
        quiet = sorted(used - kept)
        if not quiet or hits.is_empty():
            return hits
        name = pl.col("rule.name") if "rule.name" in hits.columns else pl.lit(None, pl.String)
        return hits.filter(
            ~(pl.col("rule.id").is_in(quiet).fill_null(False) | name.is_in(quiet).fill_null(False))
        )

    def process(
        self, events: pl.DataFrame, hits: pl.DataFrame, state: CorrelationState
    ) -> tuple[pl.DataFrame, CorrelationState]:
        """Feed one batch to the windows of ``state``; return its firings and the new state.

        The firings are in ``FIRING_SCHEMA``; ``state`` itself is left as it was.
        """
        events = _check_events(events)
        hits = _check_hits(hits, events)
        newest = events[TS].max()
        batch = state.batches
        watermark = state.watermark
        if isinstance(newest, datetime) and (watermark is None or newest > watermark):
            watermark = newest
        next_seq = state.next_seq
        windows = dict(state.windows)
        fired: dict[str, pl.DataFrame] = {}
        reported: list[pl.DataFrame] = []
        totals = {"observations": 0, "untimed": 0, "ungrouped": 0}
        for spec in self.specs:
            parts = []
            for index, ref in enumerate(spec.references):
                if ref.correlation is None:
                    parts.append(obs.from_hits(spec, index, ref, events, hits, self.field_map))
                else:
                    inner = self._by_key[ref.correlation]
                    parts.append(obs.from_firings(spec, index, inner, fired[inner.key]))
            new = obs.finish(spec, parts, next_seq, batch)
            next_seq += new.height
            keys = group_columns(spec)
            timed = new.filter(pl.col(TS).is_not_null())
            placed = timed.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
            totals["untimed"] += new.height - timed.height
            totals["ungrouped"] += timed.height - placed.height
            totals["observations"] += placed.height
            firings, windows[spec.key] = self._advance(
                spec, placed, self.window(state, spec.key), watermark
            )
            fired[spec.key] = firings
            if spec.key in self.reported and not firings.is_empty():
                reported.append(firings.select(list(FIRING_SCHEMA)))
        result = pl.concat(reported, how="vertical") if reported else empty_firings()
        stats = ProcessStats(
            hits=hits.height,
            firings=result.height,
            state_rows=sum(f.height for f in windows.values()),
            **totals,
        )
        after = CorrelationState(
            windows, watermark=watermark, next_seq=next_seq, batches=batch + 1, last=stats
        )
        return result.sort(TS, "rule.id", maintain_order=True), after

    def _advance(
        self,
        spec: CorrelationSpec,
        new: pl.DataFrame,
        held: pl.DataFrame,
        watermark: datetime | None,
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Evaluate ``new`` against ``held``, the window of ``spec``: its firings, what stays held."""
        keys = group_columns(spec)
        horizon = None if watermark is None else watermark - spec.timespan
        if new.is_empty():
            if horizon is not None and not held.is_empty():
                held = held.filter(pl.col(TS) >= horizon)
            return pl.DataFrame(schema={**FIRING_SCHEMA, **dict.fromkeys(keys, pl.String())}), held
        touched = new.select(keys).unique()
        # Only observations within a timespan of the earliest new one can share its windows.
        reach = pl.col(TS) >= pl.lit(new[TS].min()).cast(TIMESTAMP) - spec.timespan
        near = held.filter(reach)
        context = near.join(touched, on=keys, how="semi", nulls_equal=True)
        untouched = pl.concat(
            [held.filter(~reach), near.join(touched, on=keys, how="anti", nulls_equal=True)],
            how="vertical",
        )
        frame = evaluate(spec, pl.concat([context, new], how="vertical"))
        columns = list(obs.schema(spec))
        kept = pl.concat(
            [untouched, frame.select(columns).with_columns(pl.lit(False).alias(NEW))],
            how="vertical",
        )
        if horizon is not None:
            kept = kept.filter(pl.col(TS) >= horizon)
        return self._firings(spec, frame), kept

    def _firings(self, spec: CorrelationSpec, frame: pl.DataFrame) -> pl.DataFrame:
        """Turn the rows flagged ``_fire`` into firings with their evidence."""
        keys = group_columns(spec)
        fires = frame.filter(pl.col("_fire")).with_row_index(_FIRING_KEYS)
        if fires.is_empty():
            return pl.DataFrame(schema={**FIRING_SCHEMA, **dict.fromkeys(keys, pl.String())})
        window = (
            fires.select(_FIRING_KEYS, *keys, FIRST, pl.col(TS).alias("_last"))
            .join(frame.drop(FIRST), on=keys, how="inner", nulls_equal=True)
            .filter(pl.col(TS).is_between(pl.col(FIRST), pl.col("_last")))
            .sort(_FIRING_KEYS, TS, SEQ)
        )
        everyone = window.group_by(_FIRING_KEYS).agg(
            pl.col("organization.id").drop_nulls().unique().alias("_orgs"),
            pl.col("host.ip").drop_nulls().unique().alias("_hosts"),
            (pl.col("event.type") == "denied").fill_null(value=False).all().alias("_blocked"),
        )
        if spec.type in {"temporal", "temporal_ordered"}:
            window = (
                window.group_by(_FIRING_KEYS, REF, maintain_order=True)
                .last()
                .sort(_FIRING_KEYS, TS, SEQ)
            )
        evidence = pl.struct(
            pl.col(TS),
            pl.col(obs.BATCH).alias("batch"),
            *(pl.col(c) for c in obs.SUMMARY_SCHEMA),
        )
        proof = window.group_by(_FIRING_KEYS).agg(
            evidence.tail(self.evidence_limit).alias("correlation.evidence")
        )
        group_json = (
            pl.struct(
                [pl.col(k).alias(name) for k, name in zip(keys, spec.group_by, strict=False)]
            ).struct.json_encode()
            if spec.group_by
            else pl.lit("{}")
        )

        def grouped_or_single(name: str, found: str) -> pl.Expr:
            if name in spec.group_by:
                return pl.col(keys[spec.group_by.index(name)])
            return pl.when(pl.col(found).list.len() == 1).then(pl.col(found).list.first())

        return (
            fires.join(everyone, on=_FIRING_KEYS, how="left")
            .join(proof, on=_FIRING_KEYS, how="left")
            .sort(_FIRING_KEYS)
            .select(
                pl.lit(spec.id or spec.key, pl.String).alias("rule.id"),
                pl.lit(spec.name, pl.String).alias("rule.name"),
                pl.lit(spec.title, pl.String).alias("rule.title"),
                pl.lit(spec.level, pl.String).alias("rule.level"),
                pl.lit(list(spec.tags), pl.List(pl.String)).alias("rule.tags"),
                pl.lit(spec.type, pl.String).alias("correlation.type"),
                group_json.alias("correlation.group"),
                pl.col(TS),
                pl.col(FIRST).alias("correlation.first"),
                pl.col(TS).alias("correlation.last"),
                pl.col(METRIC_COL).cast(pl.Float64).alias("correlation.value"),
                pl.col(COUNT).cast(pl.Int64).alias("correlation.events"),
                pl.lit(int(spec.timespan.total_seconds()), pl.Int64).alias("correlation.timespan"),
                grouped_or_single("organization.id", "_orgs").alias("organization.id"),
                grouped_or_single("host.ip", "_hosts").alias("host.ip"),
                pl.col("correlation.evidence").cast(FIRING_SCHEMA["correlation.evidence"]),
                pl.col("_blocked").alias("correlation.blocked"),
                *(pl.col(k) for k in keys),
            )
        )


__all__ = [
    "EVIDENCE_LIMIT",
    "FIRING_SCHEMA",
    "CorrelationEngine",
    "CorrelationState",
    "ProcessStats",
    "empty_firings",
]
