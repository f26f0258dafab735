"""Conditions: every operator, and ranges (two bounds in one map)."""

from __future__ import annotations

import pytest

from bastion.detect.correlation import CorrelationRuleError


@pytest.mark.parametrize(
    ("condition", "fires_at"),
    [
        ({"gt": 2}, [2]),  # counts 1, 2, 3, 4
        ({"gte": 2}, [1]),
        ({"eq": 3}, [2]),
        ({"lt": 2}, [0]),
        ({"lte": 2}, [0]),
        ({"neq": 1}, [1]),
        ({"gt": 1, "lte": 3}, [1]),
        ({"gt": 2, "lt": 4}, [2]),
        ({"gte": 5}, []),
        ({"gt": 4, "lte": 10}, []),
    ],
)
def test_condition_operators(streams, condition, fires_at) -> None:
    engine = streams.engine(streams.rule("event_count", ["failed"], condition=condition))
    stream = [(m, "failed", {"host": "pc-1"}) for m in range(4)]
    (firings,) = streams.run(engine, stream)
    assert streams.fired_at(firings) == fires_at


def test_range_holds_only_inside_it(streams) -> None:
    # Up to 3 events in the window: the counts 2 and 3 are in (1, 3]; 4 is not, so
    # the episode ends and a later pair fires again after a quiet timespan.
    engine = streams.engine(
        streams.rule("event_count", ["failed"], condition={"gt": 1, "lte": 3}, timespan="2m")
    )
    stream = [(m, "failed", {"host": "pc-1"}) for m in (0, 1, 10, 11)]
    (firings,) = streams.run(engine, stream)
    assert streams.fired_at(firings) == [1, 11]


def test_a_condition_without_an_operator_is_refused(streams) -> None:
    with pytest.raises(CorrelationRuleError, match="no operator"):
        streams.engine(streams.rule("event_count", ["failed"], condition={"field": "x"}))


def test_a_non_numeric_threshold_is_refused(streams) -> None:
    with pytest.raises(CorrelationRuleError, match="count"):
        streams.engine(streams.rule("event_count", ["failed"], condition={"gte": "many"}))
