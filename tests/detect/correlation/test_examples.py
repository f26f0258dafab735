"""Every example of ../shared/data/sigma/correlation-examples loads, fires, and near-misses.

The hits are built for the base rules each example refers to, by the names and
ids read from the example file itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.detect.correlation import CorrelationEngine, load_correlation_rules

EXAMPLES = [
    "event_count.yml",
    "event_count_ecs.yml",
    "temporal.yml",
    "temporal_ordered.yml",
    "value_avg.yml",
    "value_count.yml",
    "value_percentile.yml",
    "value_sum.yml",
]


def example(shared_data: Path, name: str) -> CorrelationEngine:
    path = shared_data / "sigma" / "correlation-examples" / name
    return CorrelationEngine(load_correlation_rules([path]).rules)


def test_the_folder_holds_exactly_these_examples(shared_data: Path) -> None:
    folder = shared_data / "sigma" / "correlation-examples"
    assert sorted(p.name for p in folder.glob("*.yml")) == EXAMPLES
    engine = CorrelationEngine(load_correlation_rules([folder]).rules[:1])
    assert engine.specs[0].type == "event_count"


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_compiles_with_its_references(shared_data: Path, name: str) -> None:
    (spec,) = example(shared_data, name).specs
    assert spec.references
    assert spec.group_by
    assert spec.timespan.total_seconds() > 0


def build(spec, count, fields, step=1.0):  # type: ignore[no-untyped-def]
    """``count`` hits of each referenced rule in turn, ``step`` minutes apart."""
    return [
        (i * step, ref.reference, fields(i))
        for i in range(count)
        for ref in [spec.references[i % len(spec.references)]]
    ]


def test_event_count_example(shared_data: Path, streams) -> None:
    engine = example(shared_data, "event_count.yml")
    spec = engine.specs[0]
    assert spec.references[0].reference == "5638f7c0-ac70-491d-8465-2a65075e0d86"
    host = {"ComputerName": "dc-01"}
    (fires,) = streams.run(engine, build(spec, 100, lambda i: host, step=0.5))
    assert streams.fired_at(fires) == [49.5]
    near = example(shared_data, "event_count.yml")
    (miss,) = streams.run(near, build(spec, 99, lambda i: host, step=0.5))
    assert miss.is_empty()


def test_event_count_ecs_example(shared_data: Path, streams) -> None:
    engine = example(shared_data, "event_count_ecs.yml")
    spec = engine.specs[0]
    name = {"dns.question.name": "exfil.example.org"}
    first, second = streams.run(
        engine,
        build(spec, 60, lambda i: name, step=0.5),
        [(30 + m * 0.5, spec.references[0].reference, name) for m in range(40)],
    )
    assert first.is_empty()
    assert streams.fired_at(second) == [49.5]  # the 100th query within the hour


def test_value_count_example(shared_data: Path, streams) -> None:
    engine = example(shared_data, "value_count.yml")
    spec = engine.specs[0]
    where = {"ComputerName": "dc-01", "WorkstationName": "ws-7"}
    (fires,) = streams.run(engine, build(spec, 100, lambda i: {**where, "User": f"u{i}"}, step=10))
    assert streams.fired_at(fires) == [990]  # within one day
    near = example(shared_data, "value_count.yml")
    (miss,) = streams.run(
        near, build(spec, 100, lambda i: {**where, "User": f"u{i % 99}"}, step=10)
    )
    assert miss.is_empty()


@pytest.mark.parametrize("name", ["temporal.yml", "temporal_ordered.yml"])
def test_temporal_examples(shared_data: Path, streams, name: str) -> None:
    engine = example(shared_data, name)
    spec = engine.specs[0]
    who = {"ComputerName": "pc-1", "User": "ann"}
    (fires,) = streams.run(engine, build(spec, 3, lambda i: who))
    assert streams.fired_at(fires) == [2]
    reordered = [(i, r, who) for i, r in enumerate(["recon_cmd_c", "recon_cmd_b", "recon_cmd_a"])]
    (other,) = streams.run(example(shared_data, name), reordered)
    assert streams.fired_at(other) == ([2] if name == "temporal.yml" else [])


def test_value_sum_example(shared_data: Path, streams) -> None:
    engine = example(shared_data, "value_sum.yml")
    spec = engine.specs[0]
    (fires,) = streams.run(
        engine,
        build(spec, 3, lambda i: {"SourceIP": "10.1.1.1", "User": "ann", "bytes_sent": 400_000}),
    )
    assert streams.fired_at(fires) == [2]  # 1.2 MB > 1 MB
    (miss,) = streams.run(
        example(shared_data, "value_sum.yml"),
        build(spec, 2, lambda i: {"SourceIP": "10.1.1.1", "User": "ann", "bytes_sent": 500_000}),
    )
    assert miss.is_empty()  # exactly 1 MB is not greater


def test_value_avg_example(shared_data: Path, streams) -> None:
    engine = example(shared_data, "value_avg.yml")
    spec = engine.specs[0]
    sizes = [100, 1200, 300]
    (fires,) = streams.run(
        engine,
        build(spec, 3, lambda i: {"SourceIP": "10.1.1.1", "User": "ann", "BytesOut": sizes[i]}),
    )
    assert streams.fired_at(fires) == [1]  # averages 100, 650, 533: holds from the second on


def test_value_percentile_example(shared_data: Path, streams) -> None:
    engine = example(shared_data, "value_percentile.yml")
    spec = engine.specs[0]
    images = ["svchost.exe"] * 150 + ["rare.exe"]
    (fires,) = streams.run(
        engine, build(spec, 151, lambda i: {"ComputerName": "pc-1", "Image": images[i]})
    )
    assert streams.fired_at(fires) == [150]  # 1 of 151 is 0.66 %, at most 1 %
    assert fires["correlation.value"][0] == pytest.approx(100 / 151)
    images = ["svchost.exe"] * 98 + ["rare.exe"]
    (miss,) = streams.run(
        example(shared_data, "value_percentile.yml"),
        build(spec, 99, lambda i: {"ComputerName": "pc-1", "Image": images[i]}),
    )
    assert miss.is_empty()  # 1 of 99 is more than 1 %
