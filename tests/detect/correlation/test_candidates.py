"""Firings become boundary alert candidates (kind rule) that record_alerts accepts."""

from __future__ import annotations

import polars as pl
import pytest

from bastion.alerts import list_alerts, record_alerts
from bastion.core.errors import InputError
from bastion.core.events import CANDIDATE_SCHEMA
from bastion.detect.correlation import correlation_candidates, empty_firings
from bastion.store import Store

RULE = """
title: Password spraying from one address
id: 3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a
level: critical
correlation:
    type: value_count
    rules: [failed]
    group-by: [source.ip]
    timespan: 10m
    condition:
        field: user
        gte: 3
"""


def firings(streams):
    engine = streams.engine(RULE)
    org = {"organization.id": "RXX", "host.ip": "10.9.0.1", "source.ip": "203.0.113.5"}
    stream = [
        (0, "failed", {**org, "user": "ann", "event.original": "deny ann", "log.offset": 10}),
        (1, "failed", {**org, "user": "bob", "event.original": "deny bob", "log.offset": 20}),
        (2, "failed", {**org, "user": "cat", "event.original": "deny cat", "log.offset": 30}),
    ]
    (fired,) = streams.run(engine, stream)
    return fired


def test_candidates_have_the_candidate_schema_and_the_evidence(streams) -> None:
    fired = firings(streams)
    assert fired["organization.id"].to_list() == ["RXX"]  # every event is the same organisation
    candidates = correlation_candidates(fired)
    assert candidates.schema == pl.Schema(CANDIDATE_SCHEMA)
    assert candidates["kind"].unique().to_list() == ["rule"]
    assert candidates["severity"].unique().to_list() == ["critical"]
    assert candidates["event.original"].to_list() == ["deny ann", "deny bob", "deny cat"]
    assert candidates["log.offset"].to_list() == [10, 20, 30]
    assert (
        candidates["key"][0] == '3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a {"source.ip":"203.0.113.5"}'
    )
    assert candidates["@timestamp"].to_list() == [streams.at(m) for m in (0, 1, 2)]


def test_candidates_become_one_alert(streams, sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        stats = record_alerts(session, correlation_candidates(firings(streams)))
    assert (stats.events, stats.created) == (3, 1)
    with sqlite_store.session() as session:
        (alert,), _ = list_alerts(session)
    assert alert.title == "Password spraying from one address"
    assert alert.severity.value == "critical"
    assert alert.org == "RXX"
    assert [e.raw for e in alert.evidence] == ["deny ann", "deny bob", "deny cat"]


def test_a_firing_without_level_is_medium_and_without_raw_lines_is_described(streams) -> None:
    fired = firings(streams).with_columns(
        pl.lit(None, pl.String).alias("rule.level"),
        pl.col("correlation.evidence").list.eval(
            pl.element().struct.with_fields(pl.lit(None, pl.String).alias("event.original"))
        ),
    )
    candidates = correlation_candidates(fired)
    assert candidates["severity"].unique().to_list() == ["medium"]
    assert candidates["event.original"][0].startswith(
        "Password spraying from one address (value_count 3.0"
    )


def test_empty_and_malformed_firings(streams) -> None:
    assert correlation_candidates(empty_firings()).is_empty()
    with pytest.raises(InputError, match=r"correlation\.group"):
        correlation_candidates(firings(streams).drop("correlation.group"))
