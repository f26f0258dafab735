"""The match index updated in place of a rebuild: changes, additions and removals go live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from bastion import intel
from bastion.audit import Actor
from bastion.store import Store

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EVENTS = pl.DataFrame(
    {
        "destination.ip": ["192.0.2.1", "198.51.100.7", "203.0.113.5", "10.0.0.1"],
        "url.domain": ["a.evil.example", None, "fine.example", "new.example"],
    }
)


def _i(kind: str, value: str, source: str = "cti", **extra: object) -> intel.Indicator:
    return intel.Indicator(type=intel.IndicatorType(kind), value=value, source=source, **extra)  # type: ignore[arg-type]


def _hits(index: intel.MatchIndex) -> list[tuple[int, str, str]]:
    found = index.match(EVENTS)
    return list(zip(found["_row"], found["indicator.id"], found["indicator.action"], strict=True))


def test_with_changes_replaces_adds_and_removes() -> None:
    base = intel.MatchIndex.build([
        _i("ipv4", "192.0.2.1"), _i("domain", "evil.example"), _i("cidr", "203.0.113.0/24"),
    ])  # fmt: skip
    assert len(base) == 3
    changed = intel.indicator_frame([
        _i("domain", "evil.example", action="block"),
        _i("domain", "evil.example", source="misp"),
        _i("domain", "new.example"),
    ])  # fmt: skip
    live = base.with_changes(changed, removed=["ipv4:192.0.2.1"])
    assert len(live) == 3
    assert _hits(live) == [
        (0, "domain:evil.example", "block"),
        (2, "cidr:203.0.113.0/24", "alert"),
        (3, "domain:new.example", "alert"),
    ]
    assert live.match(EVENTS).filter(pl.col("_row") == 0)["indicator.sources"].to_list() == [
        ["cti", "misp"]
    ]
    # The base index is unchanged, and a second change layers over the first.
    assert [h[1] for h in _hits(base)] == [
        "domain:evil.example", "ipv4:192.0.2.1", "cidr:203.0.113.0/24"
    ]  # fmt: skip
    again = live.with_changes(intel.indicator_frame([]), removed=["domain:new.example"])
    assert [h[1] for h in _hits(again)] == ["domain:evil.example", "cidr:203.0.113.0/24"]


def test_refresh_index_follows_the_store(store: Store) -> None:
    with store.session() as session:
        intel.store_listings(session, [_i("ipv4", "192.0.2.1"), _i("ipv4", "198.51.100.7",
                             valid_until=NOW + timedelta(minutes=30))], reason="t", now=NOW, actor=Actor.cli("test"))  # fmt: skip
        index = intel.MatchIndex.from_frame(intel.active_indicator_frame(session, NOW))
    mark = NOW
    later = NOW + timedelta(hours=1)
    with store.session() as session:
        intel.store_listings(
            session, [_i("domain", "new.example")], reason="t", now=later, actor=Actor.cli("test")
        )
        intel.expire_indicator(
            session, "ipv4:192.0.2.1", reason="gone", now=later, actor=Actor.cli("test")
        )
    with store.session() as session:
        refreshed, mark = intel.refresh_index(
            session, index, mark, now=later + timedelta(seconds=1)
        )
    # 192.0.2.1 expired by hand, 198.51.100.7 lapsed by its valid_until, new.example added.
    assert [h[1] for h in _hits(refreshed)] == ["domain:new.example"]
    with store.session() as session:
        intel.allow(
            session,
            ["new.example"],
            reason="ours",
            now=later + timedelta(seconds=2),
            actor=Actor.cli("test"),
        )
        rebuilt, _ = intel.refresh_index(session, refreshed, mark, now=later + timedelta(seconds=3))
    assert _hits(rebuilt) == []
