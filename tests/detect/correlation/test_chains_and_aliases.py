"""Chained correlations, field-name aliases and `generate`, from the specification's examples."""

from __future__ import annotations

import json

from bastion.detect.correlation import CorrelationEngine

# The specification's "failed logins followed by a successful login", whole.
BRUTE_FORCE = """
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
"""

ANN = {"User": "ann"}


def test_chain_fires_the_outer_correlation_only(streams) -> None:
    engine = CorrelationEngine.from_yaml(BRUTE_FORCE)
    stream = [(m * 0.5, "failed_login", ANN) for m in range(10)]
    stream.append((6, "successful_login", ANN))
    (firings,) = streams.run(engine, stream)
    assert firings["rule.id"].to_list() == ["b180ead8-d58f-40b2-ae54-c8940995b9b6"]
    assert streams.fired_at(firings) == [6]
    assert json.loads(firings["correlation.group"][0]) == {"User": "ann"}
    inner, success = firings["correlation.evidence"][0]
    assert inner["rule.id"] == "a8418a5a-5fc4-46b5-b23b-6c73beb19d41"
    assert inner["@timestamp"] == streams.at(4.5)  # the tenth failed login
    assert success["rule.name"] == "successful_login"


def test_chain_nine_failures_is_a_near_miss(streams) -> None:
    engine = CorrelationEngine.from_yaml(BRUTE_FORCE)
    stream = [(m * 0.5, "failed_login", ANN) for m in range(9)]
    stream.append((6, "successful_login", ANN))
    (firings,) = streams.run(engine, stream)
    assert firings.is_empty()


def test_chain_success_before_the_failures_does_not_fire(streams) -> None:
    engine = CorrelationEngine.from_yaml(BRUTE_FORCE)
    stream = [(0, "successful_login", ANN)]
    stream += [(1 + m * 0.5, "failed_login", ANN) for m in range(10)]
    (firings,) = streams.run(engine, stream)
    assert firings.is_empty()


def test_chain_across_batches(streams) -> None:
    engine = CorrelationEngine.from_yaml(BRUTE_FORCE)
    first = [(m * 0.5, "failed_login", ANN) for m in range(6)]
    second = [(3 + m * 0.5, "failed_login", ANN) for m in range(4)]
    third = [(8, "successful_login", ANN)]
    a, b, c = streams.run(engine, first, second, third)
    assert a.is_empty()
    assert b.is_empty()  # the inner one fired, but it is not reported on its own
    assert streams.fired_at(c) == [8]


def test_generate_reports_the_inner_correlation_too(streams) -> None:
    engine = CorrelationEngine.from_yaml(
        BRUTE_FORCE.replace(
            "    timespan: 10m\nlevel: high", "    timespan: 10m\n    generate: true\nlevel: high"
        )
    )
    stream = [(m * 0.5, "failed_login", ANN) for m in range(10)]
    (firings,) = streams.run(engine, stream)
    assert firings["rule.id"].to_list() == ["a8418a5a-5fc4-46b5-b23b-6c73beb19d41"]


def test_standalone_hits_drop_rules_used_only_by_correlations(streams) -> None:
    _, hits = streams.batch(
        [(0, "failed_login", ANN), (1, "successful_login", ANN), (2, "other", ANN)]
    )
    hits = hits.with_columns(
        hits["rule.name"]
        .replace(
            {
                "failed_login": "53ba33fd-3a50-4468-a5ef-c583635cfa92",
                "successful_login": "4d0a2c83-c62c-4ed4-b475-c7e23a9269b8",
            }
        )
        .alias("rule.id")
    )
    quiet = CorrelationEngine.from_yaml(BRUTE_FORCE).standalone_hits(hits)
    assert quiet["rule.name"].to_list() == ["other"]
    loud = CorrelationEngine.from_yaml(
        BRUTE_FORCE.replace(
            "timespan: 10m\n    condition", "timespan: 10m\n    generate: true\n    condition"
        )
    )
    assert loud.standalone_hits(hits)["rule.name"].to_list() == ["failed_login", "other"]


# The specification's alias example: one address is the destination in one rule's
# events and the source in the other's.
ALIASES = """
title: Internal error then a new connection back
id: 5b0c3b9e-4a52-4a0e-9a8e-0c6f1f7d2a11
correlation:
    type: temporal
    rules:
        - internal_error
        - new_network_connection
    group-by:
        - internal_ip
        - remote_ip
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip
"""


def test_aliases_group_different_fields_together(streams) -> None:
    engine = CorrelationEngine.from_yaml(ALIASES)
    error = {"source.ip": "203.0.113.9", "destination.ip": "10.0.0.5"}
    back = {"source.ip": "10.0.0.5", "destination.ip": "203.0.113.9"}
    (firings,) = streams.run(
        engine, [(0, "internal_error", error), (0.1, "new_network_connection", back)]
    )
    assert streams.fired_at(firings) == [0.1]
    assert json.loads(firings["correlation.group"][0]) == {
        "internal_ip": "10.0.0.5",
        "remote_ip": "203.0.113.9",
    }


def test_aliases_same_fields_the_wrong_way_round_do_not_fire(streams) -> None:
    engine = CorrelationEngine.from_yaml(ALIASES)
    error = {"source.ip": "203.0.113.9", "destination.ip": "10.0.0.5"}
    (firings,) = streams.run(
        engine, [(0, "internal_error", error), (0.1, "new_network_connection", error)]
    )
    assert firings.is_empty()


def test_field_map_maps_sigma_fields_to_event_columns(streams) -> None:
    engine = streams.engine(
        streams.rule("event_count", ["failed"], group_by=["SourceIP"], condition={"gte": 2}),
        field_map={"SourceIP": "source.ip"},
    )
    peer = {"source.ip": "198.51.100.7"}
    (firings,) = streams.run(engine, [(0, "failed", peer), (1, "failed", peer)])
    assert json.loads(firings["correlation.group"][0]) == {"SourceIP": "198.51.100.7"}
