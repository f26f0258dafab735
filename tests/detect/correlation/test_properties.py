"""Property tests: the columnar engine equals a plain re-statement of the window semantics,
and cutting a stream into batches (with or without a restart) never changes what fires."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SPAN = 10  # minutes

observation = st.tuples(
    st.integers(0, 80).map(lambda half_minutes: half_minutes / 2),
    st.sampled_from(["pc-1", "pc-2", "pc-3", "pc-4", "pc-5"]),
    st.sampled_from(["ann", "bob", "cat", "dan"]),
    st.integers(0, 400),
)
streams_ = st.lists(observation, min_size=1, max_size=60).map(sorted)

RULES = {
    "event_count": ({"gte": 4}, None),
    "value_count": ({"field": "user", "gte": 3}, "distinct"),
    "value_sum": ({"field": "bytes", "gt": 900}, "sum"),
    "value_avg": ({"field": "bytes", "gt": 250, "lte": 350}, "avg"),
}


def expected(stream, kind):
    """Fire times and values, computed one observation at a time from the definition."""
    condition, _ = RULES[kind]
    bounds = {k: v for k, v in condition.items() if k != "field"}
    fired, last_met = [], {}
    for t, host, _user, _bytes in stream:
        window = [o for o in stream if o[1] == host and t - SPAN <= o[0] <= t]
        if kind == "event_count":
            value = float(len(window))
        elif kind == "value_count":
            value = float(len({o[2] for o in window}))
        elif kind == "value_sum":
            value = float(sum(o[3] for o in window))
        else:
            value = sum(o[3] for o in window) / len(window)
        met = all(
            {"gt": value > b, "gte": value >= b, "lt": value < b, "lte": value <= b}[op]
            for op, b in bounds.items()
        )
        if met:
            previous = last_met.get(host)
            if previous is None or t - previous > SPAN:
                fired.append((t, host, value))
            last_met[host] = t
    return fired


def engine_for(streams, kind):
    condition, _ = RULES[kind]
    return streams.engine(streams.rule(kind, ["hit"], condition=condition, timespan=f"{SPAN}m"))


def as_batch(part):
    return [(t, "hit", {"host": h, "user": u, "bytes": b}) for t, h, u, b in part]


def got(streams, firings_list):
    out = []
    for firings in firings_list:
        for row in firings.iter_rows(named=True):
            minute = (row["@timestamp"] - streams.t0) / timedelta(minutes=1)
            host = row["correlation.group"].split('"')[3]
            out.append((minute, host, pytest.approx(row["correlation.value"])))
    return out


@pytest.mark.parametrize("kind", list(RULES))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stream=streams_, cuts=st.lists(st.integers(1, 39), max_size=3))
def test_engine_equals_the_definition_in_one_batch_or_many(streams, kind, stream, cuts) -> None:
    want = expected(stream, kind)
    whole = got(streams, streams.run(engine_for(streams, kind), as_batch(stream)))
    assert whole == want
    # Cut between instants, not inside one: hits of one instant in one batch see each
    # other (their windows are equal); a batch cannot see the rest of its last instant.
    between = {c for c in cuts if c < len(stream) and stream[c - 1][0] != stream[c][0]}
    edges = [0, *sorted(between), len(stream)]
    parts = [as_batch(stream[a:b]) for a, b in itertools.pairwise(edges) if b > a]
    assert got(streams, streams.run(engine_for(streams, kind), *parts)) == want
