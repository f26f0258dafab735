"""Hand-built hit streams for the correlation tests.

A stream is a list of observations ``(minute, rule name, fields)``; ``Streams``
turns one into a batch: an events frame (``@timestamp`` plus the fields) and
the hits frame the base-rule engine would return for it (one hit per
observation, ``rule.id`` ``id-<name>``). This is the engine's interface, built
directly, not a stand-in for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from bastion.core.events import TIMESTAMP
from bastion.detect.correlation import CorrelationEngine, CorrelationState

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

Observation = tuple[float, str, dict[str, Any]]


class Streams:
    """Build batches and run them through engines."""

    t0 = T0

    @staticmethod
    def at(minute: float) -> datetime:
        return T0 + timedelta(minutes=minute)

    def batch(self, observations: Sequence[Observation]) -> tuple[pl.DataFrame, pl.DataFrame]:
        fields = sorted({k for _, _, f in observations for k in f})
        events = pl.DataFrame(
            {
                "@timestamp": pl.Series([self.at(m) for m, _, _ in observations], dtype=TIMESTAMP),
                **{k: [f.get(k) for _, _, f in observations] for k in fields},
            }
        )
        hits = pl.DataFrame(
            {
                "rule.id": [f"id-{name}" for _, name, _ in observations],
                "rule.name": [name for _, name, _ in observations],
                "rule.title": [f"Rule {name}" for _, name, _ in observations],
                "rule.level": ["low"] * len(observations),
                "row": pl.Series(range(len(observations)), dtype=pl.UInt32),
            },
            schema={
                "rule.id": pl.String,
                "rule.name": pl.String,
                "rule.title": pl.String,
                "rule.level": pl.String,
                "row": pl.UInt32,
            },
        )
        return events, hits

    def run(self, engine: CorrelationEngine, *batches: Sequence[Observation]) -> list[pl.DataFrame]:
        """Feed each batch in turn, from the empty state; return each batch's firings."""
        return self.feed(engine, *batches)[0]

    def feed(
        self,
        engine: CorrelationEngine,
        *batches: Sequence[Observation],
        state: CorrelationState | None = None,
    ) -> tuple[list[pl.DataFrame], CorrelationState]:
        """Feed each batch in turn from ``state`` (None: empty); return the firings and the state."""
        state = CorrelationState() if state is None else state
        out = []
        for b in batches:
            firings, state = engine.process(*self.batch(b), state)
            out.append(firings)
        return out, state

    def fired_at(self, firings: pl.DataFrame) -> list[float]:
        """Minutes after T0 at which the correlations fired."""
        return [(t - T0).total_seconds() / 60 for t in firings["@timestamp"].to_list()]

    @staticmethod
    def rule(kind: str, rules: Sequence[str], **extra: Any) -> str:
        """Return the YAML of one correlation rule (group-by ``host`` unless told otherwise)."""
        group_by = extra.pop("group_by", ["host"])
        timespan = extra.pop("timespan", "10m")
        condition = extra.pop("condition", None)
        lines = [
            f"title: {extra.pop('title', kind + ' test')}",
            f"id: {extra.pop('id', '11111111-2222-4333-8444-555555555555')}",
            f"level: {extra.pop('level', 'high')}",
            "correlation:",
            f"    type: {kind}",
            "    rules:",
            *(f"        - {r}" for r in rules),
            f"    timespan: {timespan}",
        ]
        if group_by:
            lines += ["    group-by:", *(f"        - {g}" for g in group_by)]
        if condition:
            lines.append("    condition:")
            lines += [f"        {k}: {v}" for k, v in condition.items()]
        for key, value in extra.items():
            lines.append(f"    {key}: {value}")
        return "\n".join(lines) + "\n"

    def engine(self, *documents: str, **options: Any) -> CorrelationEngine:
        """Build an engine from YAML documents."""
        return CorrelationEngine.from_yaml("\n---\n".join(documents), **options)


@pytest.fixture
def streams() -> Streams:
    return Streams()
