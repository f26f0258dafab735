"""A source is read in one format: asked for another it is refused, until it is forgotten."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bastion.audit import Actor, list_events
from bastion.boundary.checkpoints import forget_source, list_sources
from bastion.boundary.hunting import hunt
from bastion.boundary.models import IngestBatchRow
from bastion.boundary.pipeline import Pipeline
from bastion.core.errors import ConflictError, NotFoundError
from bastion.core.settings import Settings
from bastion.store import Store


def _squid(i: int) -> str:
    return f"{1748858400 + i}.000 10 11.0.0.5 TCP_MISS/200 100 GET http://s{i}.example.test/ - HIER_DIRECT/198.18.0.1 text/html\n"


def test_a_source_read_as_one_format_is_refused_as_another_until_forgotten(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    log = tmp_path / "proxy.log"
    log.write_text("".join(_squid(i) for i in range(5)))
    pipeline = Pipeline.open(sqlite_store, settings)
    [wrong] = pipeline.ingest_paths([log], "panos")  # the operator's mistake
    assert (wrong.status, wrong.events, wrong.rejects) == ("ingested", 0, 5)

    [same] = pipeline.ingest_paths([log], "panos")
    assert (same.status, same.reason) == ("already ingested", None)
    [detected] = pipeline.ingest_paths([log])  # no format told: read on as first read
    assert (detected.status, detected.format) == ("already ingested", "panos")

    [other] = pipeline.ingest_paths([log], "squid")
    assert (other.status, other.format, other.events, other.lines) == ("refused", "squid", 0, 0)
    [source] = _sources(sqlite_store)
    assert other.reason == (
        f"already ingested as panos on {source.updated_at:%Y-%m-%d}; to read it again as "
        f"squid, forget it first: `bastion boundary forget {source.key}`"
    )

    with sqlite_store.session() as session:
        forgotten = forget_source(session, str(log), Actor.cli("ops"))
    assert (forgotten.key, forgotten.format) == (source.key, "panos")
    assert _sources(sqlite_store) == []
    with sqlite_store.session() as session:
        assert session.scalars(select(IngestBatchRow)).all() == []
        [event], _ = list_events(session)
    assert (event.actor, event.action, event.target) == (
        "cli:ops",
        "boundary.source_forget",
        f"source:{source.key}",
    )
    assert event.before is not None
    assert event.before["format"] == "panos"

    [right] = pipeline.ingest_paths([log], "squid")
    assert (right.status, right.events, right.rejects) == ("ingested", 5, 0)
    [again] = pipeline.ingest_paths([log], "squid")
    assert again.status == "already ingested"
    counted = hunt(
        settings.archive_dir,
        'SELECT count(*) AS n, count(DISTINCT "event.original") AS d FROM events',
    )
    assert counted.row(0) == (5, 5)  # each event once

    with sqlite_store.session() as session, pytest.raises(ConflictError, match="5 events archived"):
        forget_source(session, source.key, Actor.cli("ops"))
    assert len(_sources(sqlite_store)) == 1  # refused: nothing changed


def test_forgetting_an_unknown_source_says_where_to_look(sqlite_store: Store) -> None:
    with sqlite_store.session() as session, pytest.raises(NotFoundError, match="boundary sources"):
        forget_source(session, "/no/such.log", Actor.cli("ops"))


def _sources(store: Store) -> list:  # type: ignore[type-arg]
    with store.session() as session:
        return list_sources(session)
