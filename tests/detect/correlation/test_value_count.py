"""value_count: distinct values of a field per group within the window."""

from __future__ import annotations


def engine(streams, **options):
    return streams.engine(
        streams.rule("value_count", ["failed"], condition={"field": "user", "gte": 3}, **options)
    )


def test_fires_on_the_third_distinct_value(streams) -> None:
    stream = [
        (0, "failed", {"host": "pc-1", "user": "ann"}),
        (1, "failed", {"host": "pc-1", "user": "bob"}),
        (2, "failed", {"host": "pc-1", "user": "ann"}),
        (3, "failed", {"host": "pc-1", "user": "cat"}),
    ]
    (firings,) = streams.run(engine(streams), stream)
    assert streams.fired_at(firings) == [3]
    assert firings["correlation.value"][0] == 3
    assert firings["correlation.events"][0] == 4


def test_repeated_values_do_not_count_twice(streams) -> None:
    stream = [(m, "failed", {"host": "pc-1", "user": "ann"}) for m in range(6)]
    stream.append((6, "failed", {"host": "pc-1", "user": "bob"}))
    (firings,) = streams.run(engine(streams), stream)
    assert firings.is_empty()


def test_missing_values_are_not_a_value(streams) -> None:
    stream = [
        (0, "failed", {"host": "pc-1", "user": "ann"}),
        (1, "failed", {"host": "pc-1", "user": None}),
        (2, "failed", {"host": "pc-1", "user": "bob"}),
    ]
    (firings,) = streams.run(engine(streams), stream)
    assert firings.is_empty()


def test_distinct_values_out_of_the_window_do_not_count(streams) -> None:
    first = [(0, "failed", {"host": "pc-1", "user": "ann"})]
    second = [
        (11, "failed", {"host": "pc-1", "user": "bob"}),
        (12, "failed", {"host": "pc-1", "user": "cat"}),
    ]
    third = [(13, "failed", {"host": "pc-1", "user": "dan"})]
    a, b, c = streams.run(engine(streams), first, second, third)
    assert a.is_empty()
    assert b.is_empty()  # ann at 0 is more than 10 minutes before 12
    assert streams.fired_at(c) == [13]  # bob, cat, dan


def test_several_fields_count_their_combinations(streams) -> None:
    rule = streams.rule("value_count", ["failed"], condition={"field": "[user, domain]", "gte": 2})
    stream = [
        (0, "failed", {"host": "pc-1", "user": "ann", "domain": "a"}),
        (1, "failed", {"host": "pc-1", "user": "ann", "domain": "a"}),
        (2, "failed", {"host": "pc-1", "user": "ann", "domain": "b"}),
    ]
    (firings,) = streams.run(streams.engine(rule), stream)
    assert streams.fired_at(firings) == [2]
