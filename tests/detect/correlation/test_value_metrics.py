"""value_sum, value_avg, value_percentile (and pySigma's value_median) over a numeric field."""

from __future__ import annotations

import pytest


def stream(*values, host="pc-1"):
    return [(i, "web", {"host": host, "bytes": v}) for i, v in enumerate(values)]


def engine(streams, kind, **condition):
    return streams.engine(streams.rule(kind, ["web"], condition={"field": "bytes", **condition}))


def test_value_sum_fires_when_the_sum_passes(streams) -> None:
    (firings,) = streams.run(engine(streams, "value_sum", gt=1000), stream(400, 500, 101, 5))
    assert streams.fired_at(firings) == [2]
    assert firings["correlation.value"][0] == 1001


def test_value_sum_just_short_does_not_fire(streams) -> None:
    (firings,) = streams.run(engine(streams, "value_sum", gt=1000), stream(400, 500, 100))
    assert firings.is_empty()


def test_value_sum_over_two_batches(streams) -> None:
    first, second = streams.run(
        engine(streams, "value_sum", gt=1000),
        stream(600),
        [(5, "web", {"host": "pc-1", "bytes": 401})],
    )
    assert first.is_empty()
    assert streams.fired_at(second) == [5]


def test_value_sum_forgets_what_left_the_window(streams) -> None:
    later = [(11, "web", {"host": "pc-1", "bytes": 401})]
    first, second = streams.run(engine(streams, "value_sum", gt=1000), stream(600), later)
    assert first.is_empty()
    assert second.is_empty()


def test_value_avg(streams) -> None:
    (firings,) = streams.run(engine(streams, "value_avg", gt=500), stream(100, 900, 1000))
    # averages 100, 500, 666.7: only the third passes
    assert streams.fired_at(firings) == [2]
    assert firings["correlation.value"][0] == pytest.approx(2000 / 3)


def test_value_avg_ignores_non_numbers(streams) -> None:
    (firings,) = streams.run(engine(streams, "value_avg", gt=500), stream("600", "n/a"))
    assert streams.fired_at(firings) == [0]
    assert firings["correlation.value"][0] == 600


def test_value_percentile_with_a_percentile(streams) -> None:
    # 90th percentile of 10, 20, 30, 40, 1000 (linear) is 616 > 500, of the first four 37.
    (firings,) = streams.run(
        engine(streams, "value_percentile", gt=500, percentile=90), stream(10, 20, 30, 40, 1000)
    )
    assert streams.fired_at(firings) == [4]
    assert firings["correlation.value"][0] == pytest.approx(616.0)


def test_value_median(streams) -> None:
    rule = streams.rule("value_median", ["web"], condition={"field": "bytes", "gte": 25})
    (firings,) = streams.run(streams.engine(rule), stream(10, 20, 30, 40))
    # medians 10, 15, 20, 25
    assert streams.fired_at(firings) == [3]


def test_value_percentile_without_percentile_is_the_share_of_a_value(streams) -> None:
    # Rare values: an image that is at most 20 % of the group's processes in the window.
    rule = streams.rule("value_percentile", ["proc"], condition={"field": "image", "lte": 20})
    common = [(i * 0.1, "proc", {"host": "pc-1", "image": "svchost.exe"}) for i in range(9)]
    rare = [(1, "proc", {"host": "pc-1", "image": "mimikatz.exe"})]
    (firings,) = streams.run(streams.engine(rule), common + rare)
    assert streams.fired_at(firings) == [1]
    assert firings["correlation.value"][0] == pytest.approx(10.0)
    assert firings["correlation.evidence"][0][-1]["rule.name"] == "proc"


def test_value_percentile_share_common_value_does_not_fire(streams) -> None:
    rule = streams.rule("value_percentile", ["proc"], condition={"field": "image", "lte": 20})
    # svchost and cmd alternate: each is about half of the window, never 20 % or less.
    names = ["svchost.exe", "cmd.exe"] * 5
    stream_ = [(i * 0.1, "proc", {"host": "pc-1", "image": n}) for i, n in enumerate(names)]
    (firings,) = streams.run(streams.engine(rule), stream_)
    assert firings.is_empty()
