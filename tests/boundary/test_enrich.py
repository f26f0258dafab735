from __future__ import annotations

import polars as pl

from bastion.boundary.attribute import NetworkIndex, attribute
from bastion.core.events import ARCHIVE_SCHEMA, conform
from bastion.intel import MATCH_SCHEMA, Indicator, IndicatorType, MatchIndex


def test_enrich_returns_matches_joinable_to_attributed_events() -> None:
    events = conform(
        pl.DataFrame(
            {
                "source.ip": ["10.1.2.3", "10.1.2.4", "10.1.2.5"],
                "destination.ip": ["203.0.113.9", "198.51.100.1", "203.0.113.10"],
                "dns.question.name": [None, "c2.evil.example", None],
            }
        ),
        ARCHIVE_SCHEMA,
    )
    events = attribute(events, NetworkIndex.build([("10.1.0.0/16", "R0A")]))
    index = MatchIndex.build(
        [
            Indicator(IndicatorType.CIDR, "203.0.113.0/28", "feed"),
            Indicator(IndicatorType.DOMAIN, "evil.example", "feed"),
        ]
    )
    matches = index.match(events)
    assert matches.schema == pl.Schema(MATCH_SCHEMA)
    joined = matches.join(events.with_row_index("_row").cast({"_row": pl.Int64}), on="_row")
    assert joined.select("organization.id", "host.ip", "indicator.id", "match.field").rows() == [
        ("R0A", "10.1.2.3", "cidr:203.0.113.0/28", "destination.ip"),
        ("R0A", "10.1.2.4", "domain:evil.example", "dns.question.name"),
        ("R0A", "10.1.2.5", "cidr:203.0.113.0/28", "destination.ip"),
    ]


def test_enrich_of_a_quiet_batch_is_empty_with_the_schema() -> None:
    events = conform(pl.DataFrame({"source.ip": ["10.0.0.1"]}), ARCHIVE_SCHEMA)
    index = MatchIndex.build([Indicator(IndicatorType.IPV4, "192.0.2.1", "feed")])
    matches = index.match(events)
    assert matches.is_empty()
    assert matches.schema == pl.Schema(MATCH_SCHEMA)
