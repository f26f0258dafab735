from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from bastion.audit import Actor
from bastion.core.errors import InputError, NotFoundError
from bastion.core.types import Severity
from bastion.intel import (
    Action,
    Indicator,
    IndicatorType,
    MatchIndex,
    active_indicator_frame,
    active_indicators,
    get_indicator,
    indicator_frame,
    list_indicators,
    save_indicators,
)
from bastion.store import Store

T = IndicatorType
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def sample() -> list[Indicator]:
    return [
        Indicator(
            T.DOMAIN,
            "evil.example",
            "abuse.ch",
            severity=Severity.HIGH,
            threat="Emotet",
            tags=("botnet",),
            first_seen=datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
        ),
        Indicator(T.DOMAIN, "evil.example", "misp", action=Action.BLOCK),
        Indicator(T.IPV4, "192.0.2.1", "misp", valid_until=datetime(2025, 12, 31, tzinfo=UTC)),
        Indicator(T.CIDR, "198.51.100.0/24", "misp", valid_until=datetime(2026, 6, 1, tzinfo=UTC)),
        Indicator(T.URL, "http://evil.example/x", "urlhaus", confidence=99),
    ]


def test_saved_indicators_read_back_equal(store: Store) -> None:
    with store.session() as session:
        assert save_indicators(session, sample(), actor=Actor.cli("test")) == (5, 0)
    with store.session() as session:
        found, total = list_indicators(session)
    assert total == 5
    assert sorted(found, key=lambda i: (i.type, i.value, i.source)) == sorted(
        sample(), key=lambda i: (i.type, i.value, i.source)
    )


def test_saving_again_updates_by_type_value_and_source(store: Store) -> None:
    with store.session() as session:
        save_indicators(session, sample(), actor=Actor.cli("test"))
    changed = Indicator(
        T.DOMAIN, "EVIL.example.", "misp", severity=Severity.CRITICAL, confidence=95
    )
    new = Indicator(T.DOMAIN, "evil.example", "otx")
    with store.session() as session:
        assert save_indicators(session, [changed, new, changed], actor=Actor.cli("test")) == (1, 1)
    with store.session() as session:
        listings = get_indicator(session, "domain:Evil.Example")
    assert [i.source for i in listings] == ["abuse.ch", "misp", "otx"]
    assert listings[1] == changed


def test_list_filters_by_type_and_search_with_paging(store: Store) -> None:
    with store.session() as session:
        save_indicators(session, sample(), actor=Actor.cli("test"))
        domains, total = list_indicators(session, type="domain")
        assert total == 2
        assert {i.type for i in domains} == {T.DOMAIN}
        emotet, total = list_indicators(session, search="EMOTET")
        assert total == 1
        assert emotet[0].source == "abuse.ch"
        page, total = list_indicators(session, limit=2, offset=1)
        assert total == 5
        assert len(page) == 2
        by_source, _ = list_indicators(session, search="urlhaus")
        assert [i.type for i in by_source] == [T.URL]


def test_active_indicators_leave_out_the_expired(store: Store) -> None:
    with store.session() as session:
        save_indicators(session, sample(), actor=Actor.cli("test"))
        active = active_indicators(session, NOW)
    assert sorted(i.id for i in active) == [
        "cidr:198.51.100.0/24",
        "domain:evil.example",
        "domain:evil.example",
        "url:http://evil.example/x",
    ]


def test_active_indicator_frame_compiles_like_the_indicators(store: Store) -> None:
    with store.session() as session:
        save_indicators(session, sample(), actor=Actor.cli("test"))
        frame = active_indicator_frame(session, NOW)
        expected = indicator_frame(active_indicators(session, NOW))
    assert frame.sort("type", "value", "source").equals(expected.sort("type", "value", "source"))
    events = pl.DataFrame({"url.domain": ["www.evil.example"], "source.ip": ["192.0.2.1"]})
    assert MatchIndex.from_frame(frame).match(events)["indicator.id"].to_list() == [
        "domain:evil.example"
    ]


def test_get_indicator_unknown_or_malformed_id(store: Store) -> None:
    with store.session() as session:
        with pytest.raises(NotFoundError, match=r"no indicator domain:absent\.example"):
            get_indicator(session, "domain:absent.example")
        with pytest.raises(InputError, match="type:value"):
            get_indicator(session, "evil.example")


def test_large_save_crosses_chunk_boundaries(store: Store) -> None:
    many = [Indicator(T.IPV4, f"10.0.{n // 256}.{n % 256}", "bulk") for n in range(1200)]
    with store.session() as session:
        assert save_indicators(session, many, actor=Actor.cli("test")) == (1200, 0)
    with store.session() as session:
        assert save_indicators(session, many[:700], actor=Actor.cli("test")) == (0, 700)
        assert list_indicators(session, type=T.IPV4, limit=1)[1] == 1200
