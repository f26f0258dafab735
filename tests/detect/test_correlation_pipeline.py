"""Correlation rules in the boundary pipeline: windows across files, restarts and redeliveries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from typer.testing import Result

from bastion.alerts import list_alerts
from bastion.audit import Actor
from bastion.boundary.lines import split_lines
from bastion.boundary.parsers import ParseContext, get_parser
from bastion.boundary.pipeline import Pipeline
from bastion.boundary.source_stats import SourceStats
from bastion.boundary.sources import Chunk, open_source, read_chunks
from bastion.core.settings import Settings
from bastion.orgs import Organisation, OrgType, save_organisation
from bastion.store import Store

Run = Callable[..., Result]

BASE_ID = "b0000000-0000-4000-8000-000000000001"
CORRELATION_ID = "c0000000-0000-4000-8000-000000000002"
RULES = f"""\
title: Probe of the admin path
id: {BASE_ID}
status: test
level: low
logsource:
  category: proxy
detection:
  sel:
    c-uri|contains: '/admin/probe'
  condition: sel
---
title: Repeated admin probes from one client
id: {CORRELATION_ID}
status: test
level: high
correlation:
  type: event_count
  rules:
    - {BASE_ID}
  group-by:
    - src_ip
  timespan: 1h
  condition:
    gte: 3
"""
SQUID = "{ts:.3f} 102 {ip} TCP_MISS/200 507 GET http://site.example{path} - DIRECT/203.0.113.9 -\n"
START = 1764579600  # 2025-12-01 09:00 UTC


def _lines(*rows: tuple[int, str, str]) -> str:
    return "".join(SQUID.format(ts=START + s, ip=ip, path=path) for s, ip, path in rows)


# Two probes from 192.0.2.1 in the first file, one more (and one from another client)
# in the second, all within the hour: the threshold of three is reached only across files.
FIRST = _lines((0, "192.0.2.1", "/admin/probe"), (60, "192.0.2.1", "/index"))
FIRST += _lines((120, "192.0.2.1", "/admin/probe?x=1"))
SECOND = _lines((600, "192.0.2.9", "/admin/probe"), (900, "192.0.2.1", "/admin/probe?y=2"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data")
    settings.rules_dir.mkdir(parents=True)
    (settings.rules_dir / "probes.yml").write_text(RULES)
    return settings


def _files(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "access-1.log", tmp_path / "access-2.log"
    first.write_text(FIRST)
    second.write_text(SECOND)
    return first, second


def _rule_alerts(store: Store) -> list[tuple[str, int, str]]:
    with store.session() as session:
        alerts = list_alerts(session)[0]
    return sorted((a.key, a.count, a.title) for a in alerts if a.kind.value == "rule")


def _expected() -> list[tuple[str, int, str]]:
    group = json.dumps({"src_ip": "192.0.2.1"}, separators=(",", ":"))
    return [(f"sigma:{CORRELATION_ID} {group}", 3, "Repeated admin probes from one client")]


def test_window_spans_two_files_and_fires_once(
    sqlite_store: Store, settings: Settings, tmp_path: Path
) -> None:
    first, second = _files(tmp_path)
    pipeline = Pipeline.open(sqlite_store, settings)
    pipeline.ingest_file(first, "squid")
    assert _rule_alerts(sqlite_store) == []  # two probes: below the threshold
    pipeline.ingest_file(second, "squid")
    # one alert, its three probes as evidence; the base rule raises nothing itself
    assert _rule_alerts(sqlite_store) == _expected()


def test_restart_between_files_gives_the_same_alert(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    first, second = _files(tmp_path)
    Pipeline.open(store, settings).ingest_file(first, "squid")
    Pipeline.open(store, settings).ingest_file(second, "squid")  # a new process: windows from SQL
    assert _rule_alerts(store) == _expected()
    again = Pipeline.open(store, settings)  # re-ingesting changes nothing
    assert [s.status for s in again.ingest_paths([first, second], "squid")] == [
        "already ingested",
        "already ingested",
    ]
    assert _rule_alerts(store) == _expected()


@contextmanager
def _statements(store: Store) -> Iterator[list[str]]:
    """Collect the SQL statements ``store`` runs inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def _state_reads(statements: list[str]) -> list[str]:
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and "correlation_state" in s
    ]


def test_redelivered_batch_is_not_counted_twice(
    sqlite_store: Store, settings: Settings, tmp_path: Path
) -> None:
    pipeline = Pipeline.open(sqlite_store, settings)
    first = Chunk(FIRST.encode(), 0)
    pipeline.ingest_chunks([first], source="stream", key="stream-1", fmt="squid")
    before = pipeline.detector_state
    assert before.rows == 2
    # The same chunk again (a queue redelivers it): had its two probes counted again, the
    # window would have reached three here, so the real third probe would not fire.
    with _statements(sqlite_store) as statements:
        stats = pipeline.ingest_chunks([first], source="stream", key="stream-1", fmt="squid")
    assert stats.batches_already_done == 1
    # the state the duplicate produced is dropped; nothing is read back from SQL
    assert pipeline.detector_state is before
    assert before.rows == 2
    assert _state_reads(statements) == []
    assert not any("correlation_state" in s for s in statements)
    assert _rule_alerts(sqlite_store) == []
    last = Chunk(SECOND.encode(), 0)
    pipeline.ingest_chunks([last], source="stream", key="stream-2", fmt="squid")
    assert _rule_alerts(sqlite_store) == _expected()


def test_redelivered_batch_that_fired_does_not_fire_again(
    sqlite_store: Store, settings: Settings
) -> None:
    pipeline = Pipeline.open(sqlite_store, settings)
    first, second = Chunk(FIRST.encode(), 0), Chunk(SECOND.encode(), len(FIRST))
    pipeline.ingest_chunks([first, second], source="stream", key="stream-1", fmt="squid")
    assert _rule_alerts(sqlite_store) == _expected()
    committed = pipeline.detector_state
    parser = get_parser("squid")
    stats = SourceStats("stream", parser.name)
    with _statements(sqlite_store) as statements:
        # the firing batch redelivered by the queue, the way a worker takes it
        pipeline.process_chunk(
            second,
            split_lines(second.data, second.offset),
            parser,
            ParseContext("stream"),
            "stream-1",
            stats,
        )
    assert stats.batches_already_done == 1
    assert pipeline.detector_state is committed
    assert _state_reads(statements) == []
    assert _rule_alerts(sqlite_store) == _expected()  # one alert, still three probes


def test_a_stream_goes_on_from_the_committed_state_after_a_redelivery(
    sqlite_store: Store, settings: Settings
) -> None:
    pipeline = Pipeline.open(sqlite_store, settings)
    first, second = Chunk(FIRST.encode(), 0), Chunk(SECOND.encode(), len(FIRST))
    # The first chunk comes twice in one stream: the chunk after the duplicate is
    # transformed from the committed state, not from the duplicate's (which counted its
    # probes twice and so would have spent the firing in the dropped batch).
    with _statements(sqlite_store) as statements:
        stats = pipeline.ingest_chunks(
            [first, first, second], source="stream", key="stream-1", fmt="squid"
        )
    assert (stats.batches, stats.batches_already_done) == (3, 1)
    assert _state_reads(statements) == []
    assert _rule_alerts(sqlite_store) == _expected()
    assert pipeline.detector_state.batches == 2  # two batches committed, each counted once


def test_chunks_of_one_segment_carry_the_state_to_each_other(
    sqlite_store: Store, settings: Settings, tmp_path: Path
) -> None:
    both = tmp_path / "access.log"
    both.write_text(FIRST + SECOND)
    pipeline = Pipeline.open(sqlite_store, settings)
    pipeline.chunk_bytes = 150  # a chunk a line or two: the probes fall in separate chunks
    with open_source(both) as stream:
        chunks = len(list(read_chunks(stream, chunk_size=pipeline.chunk_bytes)))
    assert chunks >= 3
    stats = pipeline.ingest_file(both, "squid")
    assert stats.batches == 1  # all in one segment, committed together
    assert _rule_alerts(sqlite_store) == _expected()
    assert pipeline.detector_state.batches == chunks  # each chunk counted once
    # the committed state is the segment's last chunk's
    assert Pipeline.open(sqlite_store, settings).detector_state.batches == chunks


def test_rules_list_shows_correlations(bastion: Run, settings: Settings) -> None:
    assert bastion("init").exit_code == 0  # the rules folder is the settings fixture's
    result = bastion("rules", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows[CORRELATION_ID]["correlation"] == "event_count"
    assert rows[CORRELATION_ID]["status"] == "enabled"
    assert rows[CORRELATION_ID]["level"] == "high"
    assert rows[BASE_ID]["alerts"] is False  # used only by the correlation


BASE_FOR_EXAMPLES = """\
title: Base {name}
{ident}
status: test
logsource:
  category: proxy
detection:
  sel:
    c-uri|contains: '/{name}'
  condition: sel
"""


def test_check_compiles_the_shared_correlation_examples(
    bastion: Run, shared_data: Path, tmp_path: Path
) -> None:
    base = tmp_path / "base.yml"
    # the base rules the examples refer to, by id or by name
    base.write_text(
        "---\n".join(
            BASE_FOR_EXAMPLES.format(name=n.replace("-", ""), ident=i)
            for n, i in [
                ("failed", "id: 5638f7c0-ac70-491d-8465-2a65075e0d86"),
                ("a", "name: recon_cmd_a"),
                ("b", "name: recon_cmd_b"),
                ("c", "name: recon_cmd_c"),
                ("rulea", "name: rule_a_id"),
                ("process", "name: process_creation"),
                ("website", "name: website_access"),
            ]
        )
    )
    examples = shared_data / "sigma" / "correlation-examples"
    result = bastion("rules", "check", str(base), str(examples), "--json")
    reports = json.loads(result.stdout)
    by_file: dict[str, list[dict[str, str]]] = {}
    for r in reports:
        by_file.setdefault(Path(r["path"]).name, []).append(r)
    files = sorted(p.name for p in examples.glob("*.yml"))
    assert len(files) == 8
    statuses = {name: [r["status"] for r in by_file[name]] for name in files}
    # event_count.yml and event_count_ecs.yml share an id: one runs, the other is reported
    duplicated = [
        n for n in ("event_count.yml", "event_count_ecs.yml") if statuses[n] != ["correlation"]
    ]
    assert len(duplicated) == 1
    assert "same identity" in by_file[duplicated[0]][0]["reason"]
    assert all(statuses[n] == ["correlation"] for n in files if n not in duplicated)
    assert [r["status"] for r in by_file["base.yml"]] == ["compiled"] * 7
    alone = [str(base)] + [str(examples / n) for n in files if n not in duplicated]
    ok = bastion("rules", "check", *alone)
    assert ok.exit_code == 0, ok.output
    assert "7 correlation(s) compiled" in ok.stderr


def test_a_disabled_correlation_does_not_run(
    bastion: Run, settings: Settings, tmp_path: Path
) -> None:
    assert bastion("init").exit_code == 0
    off = bastion("rules", "disable", CORRELATION_ID)
    assert off.exit_code == 0, off.output
    rows = {r["id"]: r for r in json.loads(bastion("rules", "list", "--json").stdout)}
    assert rows[CORRELATION_ID]["status"] == "disabled"
    store = Store.from_url(settings.db_url)
    try:
        pipeline = Pipeline.open(store, settings)
        assert pipeline.detector is not None
        assert pipeline.detector.correlation is None
        for path in _files(tmp_path):
            pipeline.ingest_file(path, "squid")
        assert _rule_alerts(store) == []
    finally:
        store.dispose()


def test_a_pipeline_for_one_organisation_keeps_its_own_windows(
    sqlite_store: Store, settings: Settings, tmp_path: Path
) -> None:
    with sqlite_store.session() as session:
        save_organisation(
            session, Organisation("R0A", "Trust A", OrgType.TRUST), actor=Actor.cli("test")
        )
    first, second = _files(tmp_path)
    other = tmp_path / "web.log"
    other.write_text(_lines((30, "192.0.2.7", "/index")))
    fleet = Pipeline.open(sqlite_store, settings)
    web = Pipeline.open(sqlite_store, settings, default_org="R0A")  # opened before fleet commits
    fleet.ingest_file(first, "squid")
    web.ingest_file(other, "squid")  # had it saved its windows over fleet's, two probes were lost
    Pipeline.open(sqlite_store, settings).ingest_file(second, "squid")
    assert _rule_alerts(sqlite_store) == _expected()
