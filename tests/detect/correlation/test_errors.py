"""Bad rules and bad batches give a clear error saying what and where."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from bastion.core.errors import InputError
from bastion.detect.correlation import (
    CorrelationRuleError,
    CorrelationState,
    load_correlation_rules,
)


def test_not_yaml(streams) -> None:
    with pytest.raises(CorrelationRuleError, match="not valid YAML"):
        streams.engine("title: [unclosed")


def test_a_rule_file_that_is_not_sigma_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "title: x\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [h]\n  timespan: soon\n  condition: {gte: 1}\n"
    )
    with pytest.raises(CorrelationRuleError, match=r"bad\.yml.*[Tt]imespan"):
        load_correlation_rules([bad])


def test_an_unreadable_rule_file(tmp_path: Path) -> None:
    with pytest.raises(CorrelationRuleError, match="cannot read"):
        load_correlation_rules([tmp_path / "absent.yml"])


def test_a_cycle_of_references(streams) -> None:
    one = streams.rule(
        "event_count", ["two"], condition={"gte": 1}, id="a1a1a1a1-0000-4000-8000-000000000001"
    )
    two = streams.rule(
        "event_count", ["one"], condition={"gte": 1}, id="a1a1a1a1-0000-4000-8000-000000000002"
    )
    with pytest.raises(CorrelationRuleError, match="cycle"):
        streams.engine(
            one.replace("title:", "name: one\ntitle:"), two.replace("title:", "name: two\ntitle:")
        )


def test_extended_conditions_are_refused(streams) -> None:
    rule = streams.rule("temporal", ["a", "b"], condition=None) + "    condition: a and b\n"
    with pytest.raises(CorrelationRuleError, match="extended"):
        streams.engine(rule)


def test_value_types_need_a_field(streams) -> None:
    with pytest.raises(CorrelationRuleError, match="field"):
        streams.engine(streams.rule("value_sum", ["a"], condition={"gt": 1}))


def test_hits_without_row_column(streams) -> None:
    engine = streams.engine(streams.rule("event_count", ["a"], condition={"gte": 1}))
    events, hits = streams.batch([(0, "a", {"host": "h"})])
    with pytest.raises(InputError, match="row"):
        engine.process(events, hits.drop("row"), CorrelationState())


def test_hits_pointing_past_the_batch(streams) -> None:
    engine = streams.engine(streams.rule("event_count", ["a"], condition={"gte": 2}))
    _, state = streams.feed(engine, [(0, "a", {"host": "h"})])
    events, hits = streams.batch([(1, "a", {"host": "h"})])
    with pytest.raises(InputError, match="past the batch's 1 events"):
        engine.process(events, hits.with_columns(pl.lit(5, pl.UInt32).alias("row")), state)
    # nothing half-applied: the state goes on from where it was
    assert (state.rows, state.batches) == (1, 1)
    (firings,), _ = streams.feed(engine, [(1, "a", {"host": "h"})], state=state)
    assert streams.fired_at(firings) == [1]


def test_events_without_a_usable_timestamp(streams) -> None:
    engine = streams.engine(streams.rule("event_count", ["a"], condition={"gte": 1}))
    events, hits = streams.batch([(0, "a", {"host": "h"})])
    empty = CorrelationState()
    with pytest.raises(InputError, match="@timestamp"):
        engine.process(events.drop("@timestamp"), hits, empty)
    with pytest.raises(InputError, match="UTC datetime"):
        engine.process(events.with_columns(pl.col("@timestamp").cast(pl.String)), hits, empty)


def test_naive_timestamps_are_taken_as_utc(streams) -> None:
    engine = streams.engine(streams.rule("event_count", ["a"], condition={"gte": 1}))
    events, hits = streams.batch([(0, "a", {"host": "h"})])
    naive = events.with_columns(pl.col("@timestamp").dt.replace_time_zone(None))
    firings, _ = engine.process(naive, hits, CorrelationState())
    assert streams.fired_at(firings) == [0]
