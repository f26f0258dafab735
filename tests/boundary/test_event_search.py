"""Event search: filters over the archive, the caller's organisations bound in the query."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from bastion.boundary.archive import write_batch
from bastion.boundary.compaction import compact
from bastion.boundary.event_search import EventFilters, search_events
from bastion.boundary.sandbox import SandboxLimits
from bastion.core.errors import InputError
from bastion.core.scope import Scope

LIMITS = SandboxLimits(memory_limit="256MB", seconds=10.0, threads=1)


def at(hour: int) -> datetime:
    return datetime(2024, 3, 1, hour, tzinfo=UTC)


@pytest.fixture(params=["staged", "compacted"])
def archive(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    root = tmp_path / "archive"
    events = pl.DataFrame(
        {
            "@timestamp": [at(9), at(10), at(11), at(12)],
            "organization.id": ["RAL", "RJ1", "RAL", "RAL"],
            "event.dataset": ["panos.traffic", "panos.traffic", "zeek.dns", "squid.access"],
            "event.action": ["allow", "deny", "query", "TCP_MISS"],
            "source.ip": ["10.20.0.5", "10.30.0.9", "10.20.0.6", "10.20.0.7"],
            "destination.ip": ["203.0.113.9", "203.0.113.9", "10.20.0.1", "198.51.100.4"],
            "url.domain": [None, None, None, "evil.example"],
            "url.full": [None, None, None, "http://cdn.evil.example/a_b%c"],
            "dns.question.name": [None, None, "x.evil.example", None],
            "event.original": ["ral one", "rj1 secret", "ral two", "ral three"],
        }
    )
    write_batch(events, root, "batch-1")
    if request.param == "compacted":
        compact(root, committed=lambda _batch: True)
    return root


def found(root: Path, scope: Scope, **filters: object) -> list[str]:
    page = search_events(root, scope, EventFilters(**filters), limits=LIMITS, limit=50)  # type: ignore[arg-type]
    return page.rows["event.original"].to_list()


def test_a_member_sees_only_its_own_organisations_events(archive: Path) -> None:
    assert found(archive, Scope.of(["RAL"])) == ["ral three", "ral two", "ral one"]
    # Another organisation's event matches the filter, and still is not found.
    assert found(archive, Scope.of(["RAL"]), address="10.30.0.9") == []
    assert found(archive, Scope.of(["RJ1"]), address="10.30.0.9") == ["rj1 secret"]
    assert found(archive, Scope.of([])) == []


def test_national_sees_every_organisation(archive: Path) -> None:
    assert sorted(found(archive, Scope.everything())) == [
        "ral one",
        "ral three",
        "ral two",
        "rj1 secret",
    ]


def test_each_filter_narrows(archive: Path) -> None:
    everyone = Scope.everything()
    assert found(archive, everyone, address="203.0.113.9") == ["rj1 secret", "ral one"]
    assert found(archive, everyone, domain="evil.example") == ["ral three", "ral two"]
    assert found(archive, everyone, domain="EVIL.example.") == ["ral three", "ral two"]
    assert found(archive, everyone, domain="vil.example") == []  # whole labels only
    assert found(archive, everyone, url="a_b%c") == ["ral three"]
    assert found(archive, everyone, url="a_bx") == []  # _ and % are literal
    assert found(archive, everyone, action="DENY") == ["rj1 secret"]
    assert found(archive, everyone, dataset="zeek.dns") == ["ral two"]
    assert found(archive, everyone, since=at(10), until=at(12)) == ["ral two", "rj1 secret"]


def test_a_filter_is_bound_never_pasted(archive: Path) -> None:
    sneaky = "x') OR 1=1 OR ('"
    assert found(archive, Scope.of(["RAL"]), domain=sneaky) == []
    assert found(archive, Scope.of(["RAL"]), action=sneaky) == []
    with pytest.raises(InputError, match="not an IP address"):
        found(archive, Scope.of(["RAL"]), address="10.0.0.1' OR 1=1 --")


def test_pages_follow_one_another(archive: Path) -> None:
    first = search_events(archive, Scope.everything(), EventFilters(), limits=LIMITS, limit=3)
    second = search_events(
        archive, Scope.everything(), EventFilters(), limits=LIMITS, limit=3, offset=3
    )
    assert (first.rows.height, first.more, second.rows.height, second.more) == (3, True, 1, False)


def test_a_kept_database_answers_for_the_archive_as_it_is_now(tmp_path: Path) -> None:
    from bastion.boundary import sandbox

    root = tmp_path / "archive"
    first = pl.DataFrame(
        {"@timestamp": [at(9)], "organization.id": ["RAL"], "event.original": ["ral one"]}
    )
    write_batch(first, root, "batch-1")
    assert found(root, Scope.of(["RAL"])) == ["ral one"]
    assert found(root, Scope.of(["RJ1"])) == []  # the same kept database, another scope
    [kept] = [
        h
        for k, hunts in sandbox._OPENED._idle.items()
        if k[0] == str(root.resolve())
        for h in hunts
    ]
    second = first.with_columns(
        pl.lit(at(10)).alias("@timestamp"), pl.lit("ral two").alias("event.original")
    )
    write_batch(second, root, "batch-2")
    assert found(root, Scope.of(["RAL"])) == ["ral two", "ral one"]  # a new file: read
    held = [
        h
        for k, hunts in sandbox._OPENED._idle.items()
        if k[0] == str(root.resolve())
        for h in hunts
    ]
    assert held
    assert kept not in held  # the database of the old files is closed, not kept
    assert kept._opened is None
    compact(root, committed=lambda _batch: True)
    assert found(root, Scope.of(["RAL"])) == ["ral two", "ral one"]  # compacted: the same
    assert found(root, Scope.everything()) == ["ral two", "ral one"]
