from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from bastion.boundary import compaction
from bastion.boundary.archive import prune, write_atomically, write_batch
from bastion.boundary.compaction import bucket_of, compact
from bastion.boundary.hunting import hunt
from bastion.core.errors import InputError
from bastion.core.events import ARCHIVE_SCHEMA


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def events() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "@timestamp": [at(2024, 3, 1, 10), at(2024, 3, 1, 11), at(2024, 3, 2, 0, 5), None],
            "organization.id": ["R0A", "RXX", None, "R0A"],
            "source.ip": ["10.1.0.5", "10.2.0.9", "198.51.100.7", "10.1.0.6"],
            "destination.port": [443, 53, 80, 22],
            "event.original": ["line one", "line two", "line three", "line four"],
            "log.offset": [0, 9, 18, 29],
            "_line": [0, 1, 2, 3],
            "not.in.schema": ["x", "y", "z", "w"],
        }
    )


def files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet"))


def test_write_batch_stages_one_file_per_day_and_compaction_partitions_by_org(
    tmp_path: Path,
) -> None:
    assert write_batch(events(), tmp_path, "batch-1") == 4
    assert files(tmp_path) == [
        "day=2024-03-01/org=_staging/part-batch-1.parquet",
        "day=2024-03-02/org=_staging/part-batch-1.parquet",
        "day=unknown/org=_staging/part-batch-1.parquet",
    ]
    stats = compact(tmp_path)
    assert (stats.staged_files, stats.events, stats.files_written) == (3, 4, 4)
    cid = files(tmp_path)[0].rsplit("part-", 1)[1]
    assert files(tmp_path) == [
        f"day=2024-03-01/org=R0A/part-{cid}",
        f"day=2024-03-01/org=RXX/part-{cid}",
        "day=2024-03-02/org=_none/" + next(tmp_path.glob("day=2024-03-02/org=_none/*")).name,
        "day=unknown/org=R0A/" + next(tmp_path.glob("day=unknown/org=R0A/*")).name,
    ]
    written = pl.read_parquet(tmp_path / f"day=2024-03-01/org=R0A/part-{cid}")
    assert written.schema == pl.Schema(ARCHIVE_SCHEMA)
    assert written["source.ip"].to_list() == ["10.1.0.5"]
    assert hunt(tmp_path, "SELECT count(*) FROM events").item() == 4


def raw_codec(path: Path) -> str:
    metadata = pq.ParquetFile(path).metadata
    names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
    return str(metadata.row_group(0).column(names.index("event.original")).compression)


def test_staged_raw_lines_are_lz4_and_compacted_ones_zstd(tmp_path: Path) -> None:
    write_batch(events(), tmp_path, "batch-1")
    assert raw_codec(next(tmp_path.glob("day=2024-03-01/org=_staging/*.parquet"))) == "LZ4"
    compact(tmp_path)
    assert raw_codec(next(tmp_path.glob("day=2024-03-01/org=R0A/*.parquet"))) == "ZSTD"


def test_hunt_sees_written_rows_with_partition_columns(tmp_path: Path) -> None:
    write_batch(events(), tmp_path, "batch-1")
    found = hunt(
        tmp_path,
        'SELECT org, day, "source.ip", "destination.port", "@timestamp" FROM events '
        'ORDER BY "log.offset"',
    )
    assert found["org"].to_list() == ["R0A", "RXX", "_none", "R0A"]
    assert found["day"].to_list() == ["2024-03-01", "2024-03-01", "2024-03-02", "unknown"]
    assert found["destination.port"].to_list() == [443, 53, 80, 22]
    assert found.schema["@timestamp"] == pl.Datetime("us", "UTC")
    assert found["@timestamp"][0] == at(2024, 3, 1, 10)


def test_same_batch_id_twice_leaves_one_copy(tmp_path: Path) -> None:
    write_batch(events(), tmp_path, "batch-1")
    write_batch(events(), tmp_path, "batch-1")
    assert hunt(tmp_path, "SELECT count(*) AS n FROM events")["n"].item() == 4
    assert len(files(tmp_path)) == 3
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_two_batch_ids_keep_both(tmp_path: Path) -> None:
    write_batch(events(), tmp_path, "batch-1")
    write_batch(events().head(1), tmp_path, "batch-2")
    counted = hunt(tmp_path, "SELECT org, count(*) AS n FROM events GROUP BY org ORDER BY org")
    assert counted.rows() == [("R0A", 3), ("RXX", 1), ("_none", 1)]


def test_empty_batch_writes_nothing(tmp_path: Path) -> None:
    assert write_batch(events().clear(), tmp_path, "batch-1") == 0
    assert files(tmp_path) == []


@pytest.mark.parametrize("batch_id", ["../escape", "a/b", "", ".hidden", "x*"])
def test_batch_id_that_is_not_a_safe_file_name_is_refused(tmp_path: Path, batch_id: str) -> None:
    with pytest.raises(InputError, match="invalid batch id"):
        write_batch(events(), tmp_path, batch_id)


def test_empty_archive_has_an_empty_events_view_with_the_archive_schema(tmp_path: Path) -> None:
    for root in (tmp_path, tmp_path / "missing"):
        found = hunt(root, "SELECT * FROM events")
        assert found.is_empty()
        assert list(found.columns) == [*ARCHIVE_SCHEMA, "day", "org"]
        assert found.schema["@timestamp"] == pl.Datetime("us", "UTC")


def test_hunt_limit_caps_rows(tmp_path: Path) -> None:
    write_batch(events(), tmp_path, "batch-1")
    assert hunt(tmp_path, "SELECT * FROM events", limit=2).height == 2


def test_bad_sql_raises_input_error_with_duckdb_message(tmp_path: Path) -> None:
    write_batch(events(), tmp_path, "batch-1")
    with pytest.raises(InputError, match="hunt query failed") as caught:
        hunt(tmp_path, "SELECT nope FROM events")
    assert "nope" in str(caught.value)
    with pytest.raises(InputError, match="hunt query failed"):
        hunt(tmp_path, "SELEC * FROM events")


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO 'out.csv'",
        "SELECT 1; SELECT 2",
        "CREATE TABLE t AS SELECT 1",
        "DROP VIEW events",
    ],
)
def test_hunt_runs_only_one_select(tmp_path: Path, sql: str) -> None:
    with pytest.raises(InputError, match="one SELECT"):
        hunt(tmp_path, sql)


def test_hunt_cannot_read_files_outside_the_archive(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    write_batch(events(), archive, "batch-1")
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(InputError, match="hunt query failed"):
        hunt(archive, f"SELECT * FROM read_csv('{secret}')")


def test_prune_removes_only_days_wholly_older_than_the_cutoff(tmp_path: Path) -> None:
    write_batch(events(), tmp_path, "batch-1")
    # 2024-03-01 ended at 03-02 00:00, which is 1 day before now: gone; 03-02 stays.
    assert prune(tmp_path, 1, now=at(2024, 3, 3, 0, 0)) == 1
    assert files(tmp_path) == [
        "day=2024-03-02/org=_staging/part-batch-1.parquet",
        "day=unknown/org=_staging/part-batch-1.parquet",
    ]
    assert prune(tmp_path, 1, now=at(2024, 3, 3, 0, 0)) == 0
    assert prune(tmp_path, 0, now=at(2030, 1, 1)) == 1
    assert files(tmp_path) == ["day=unknown/org=_staging/part-batch-1.parquet"]


def test_prune_refuses_negative_age_and_tolerates_missing_root(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        prune(tmp_path, -1, now=at(2024, 1, 1))
    assert prune(tmp_path / "missing", 30, now=at(2024, 1, 1)) == 0


def test_compaction_leaves_uncommitted_batches_staged(tmp_path: Path) -> None:
    write_batch(events(), tmp_path, "batch-1")
    write_batch(events().head(1), tmp_path, "batch-2")
    compact(tmp_path, committed=lambda batch: batch == "batch-1")
    assert "day=2024-03-01/org=_staging/part-batch-2.parquet" in files(tmp_path)
    assert "day=2024-03-01/org=_staging/part-batch-1.parquet" not in files(tmp_path)
    assert hunt(tmp_path, "SELECT count(*) FROM events").item() == 5


@pytest.mark.parametrize("outputs_written", [0, 1, 2])
def test_a_compaction_interrupted_anywhere_shows_each_event_once_and_recovers(
    tmp_path: Path, outputs_written: int
) -> None:
    write_batch(events().head(2), tmp_path, "batch-1")  # R0A and RXX on 2024-03-01
    day = tmp_path / "day=2024-03-01"
    staged = pl.read_parquet(day / "org=_staging/part-batch-1.parquet")
    outputs = ["org=R0A/part-cX.parquet", "org=RXX/part-cX.parquet"]
    (day / ".compaction-X.json").write_text(
        json.dumps({"inputs": ["org=_staging/part-batch-1.parquet"], "outputs": outputs})
    )
    for name, code in list(zip(outputs, ["R0A", "RXX"], strict=True))[:outputs_written]:
        write_atomically(staged.filter(pl.col("organization.id") == code), day / name, "parquet")
    assert hunt(tmp_path, "SELECT count(*) FROM events").item() == 2
    assert compact(tmp_path).recovered == 1
    assert hunt(tmp_path, "SELECT count(*) FROM events").item() == 2
    assert not list(day.glob(".compaction-*"))
    compact(tmp_path)
    assert not list(day.glob("org=_staging/*.parquet"))
    assert sorted(hunt(tmp_path, "SELECT org FROM events").get_column("org")) == ["R0A", "RXX"]


def test_compaction_bucket_of_an_organisation_is_its_crc32() -> None:
    buckets = bucket_of(pl.Series(["R0A", "_none", "R0A"]), 7).to_list()
    assert buckets == [zlib.crc32(b"R0A") % 7, zlib.crc32(b"_none") % 7, zlib.crc32(b"R0A") % 7]


def test_compaction_writes_one_file_per_organisation_for_many_batches(tmp_path: Path) -> None:
    for batch in range(5):
        frame = pl.DataFrame(
            {
                "@timestamp": [at(2024, 3, 1, 10)] * 100,
                "organization.id": [f"ORG{i % 40:02d}" for i in range(100)],
                "event.original": [f"batch {batch} line {i}" for i in range(100)],
            }
        )
        write_batch(frame, tmp_path, f"batch-{batch}")
    stats = compact(tmp_path)
    assert (stats.staged_files, stats.events, stats.files_written) == (5, 500, 40)
    assert len(files(tmp_path)) == 40
    counts = hunt(tmp_path, "SELECT org, count(*) AS n FROM events GROUP BY org")
    assert counts.height == 40
    assert set(counts.get_column("n").to_list()) == {
        (100 // 40 + (i < 100 % 40)) * 5 for i in range(40)
    }


def test_compaction_reads_staged_files_written_with_fewer_columns(tmp_path: Path) -> None:
    # A staged file from an older schema: its missing columns read as null.
    day = tmp_path / "day=2024-03-01"
    write_atomically(
        events().head(2).drop("_line", "not.in.schema"),
        day / "org=_staging/part-old.parquet",
        "parquet",
    )
    write_batch(events().head(2), tmp_path, "batch-new")
    stats = compact(tmp_path)
    assert (stats.staged_files, stats.events, stats.files_written) == (2, 4, 2)
    rows = hunt(tmp_path, "SELECT org, count(*) AS n FROM events GROUP BY org ORDER BY org")
    assert rows.rows() == [("R0A", 2), ("RXX", 2)]


def test_compaction_leaves_a_day_staged_until_it_is_over(tmp_path: Path) -> None:
    write_batch(events(), tmp_path, "batch-1")
    stats = compact(tmp_path, closed_before=at(2024, 3, 2, 23, 59))
    assert stats.days == 2  # 2024-03-01 ended; day=unknown has no end to wait for
    assert "day=2024-03-02/org=_staging/part-batch-1.parquet" in files(tmp_path)
    assert "day=2024-03-01/org=_staging/part-batch-1.parquet" not in files(tmp_path)
    assert hunt(tmp_path, "SELECT count(*) FROM events").item() == 4
    assert compact(tmp_path, closed_before=at(2024, 3, 3)).days == 1
    assert not [f for f in files(tmp_path) if "_staging" in f]


def test_compaction_splits_a_group_into_buckets_and_cleans_its_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compaction, "BUCKET_BYTES", 1)  # as many buckets as it may have
    for batch in range(3):
        frame = pl.DataFrame(
            {
                "@timestamp": [at(2024, 3, 1, 10)] * 60,
                "organization.id": [f"ORG{i % 30:02d}" for i in range(60)],
                "event.original": [f"batch {batch} line {i}" for i in range(60)],
            }
        )
        write_batch(frame, tmp_path, f"batch-{batch}")
    stats = compact(tmp_path)
    assert (stats.events, stats.files_written) == (180, 30)
    assert hunt(tmp_path, 'SELECT count(DISTINCT "event.original") FROM events').item() == 180
    assert not list((tmp_path / "day=2024-03-01").glob(".compaction-*"))


def test_compaction_removes_scratch_left_by_a_crash_before_its_marker(tmp_path: Path) -> None:
    write_batch(events().head(2), tmp_path, "batch-1")
    orphan = tmp_path / "day=2024-03-01" / ".compaction-dead" / "b000"
    orphan.mkdir(parents=True)
    (orphan / "000000.parquet").write_bytes(b"half a file")
    compact(tmp_path)
    assert not (tmp_path / "day=2024-03-01" / ".compaction-dead").exists()
    assert hunt(tmp_path, "SELECT count(*) FROM events").item() == 2


def test_compaction_writes_a_big_organisation_a_slice_at_a_time_into_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compaction, "SPLIT_ROWS", 10)  # memory for a few rows, whatever the day
    monkeypatch.setattr(compaction, "SLICE_ROWS", 25)
    for batch in range(2):
        frame = pl.DataFrame(
            {
                "@timestamp": [at(2024, 3, 1, 10)] * 100,
                "organization.id": ["WEB"] * 97 + ["ORG1", "ORG2", "ORG1"],
                "event.original": [f"batch {batch} line {i}" for i in range(100)],
            }
        )
        write_batch(frame, tmp_path, f"batch-{batch}")
    stats = compact(tmp_path)
    assert (stats.events, stats.files_written) == (200, 3)
    (web,) = tmp_path.glob("day=2024-03-01/org=WEB/*.parquet")
    assert pq.ParquetFile(web).metadata.num_row_groups > 1
    assert pl.read_parquet(web).height == 194
    assert hunt(tmp_path, 'SELECT count(DISTINCT "event.original") FROM events').item() == 200
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("old_names", [["part-a0.parquet"], ["part-z9.parquet"]])
def test_hunt_reads_files_written_with_fewer_columns(tmp_path: Path, old_names: list[str]) -> None:
    """An archive older than its schema: a file lacking a column reads it as null, first or not."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bastion.boundary.hunting import Hunt

    root = tmp_path / "archive"
    when = datetime(2026, 11, 30, 12, tzinfo=UTC)
    write_batch(
        pl.DataFrame({"@timestamp": [when], "source.ip": ["192.0.2.1"], "host.ip": ["10.0.0.1"]}),
        root,
        "b1",
    )
    for name in old_names:  # listed before the complete file, or after it
        old = root / "day=2026-11-30" / "org=_staging" / name
        table = pa.table({"@timestamp": pa.array([when], pa.timestamp("us", "UTC")),
                          "source.ip": ["192.0.2.2"]})  # fmt: skip
        pq.write_table(table, old)
    with Hunt(root) as hunt:
        found = hunt.query('SELECT "source.ip", "host.ip" FROM events ORDER BY "source.ip"')
    assert found.rows() == [("192.0.2.1", "10.0.0.1"), ("192.0.2.2", None)]


def _scan_archive(root: Path) -> None:
    """Three days, several files a day, one file lacking ``destination.ip``, a day unknown."""
    import pyarrow as pa

    for day in (1, 2, 3):
        for batch in range(3):
            rows = 5 + batch
            write_batch(
                pl.DataFrame(
                    {
                        "@timestamp": [at(2026, 11, day, 1 + i) for i in range(rows)],
                        "source.ip": [f"10.{day}.{batch}.{i}" for i in range(rows)],
                        "destination.ip": [f"192.0.2.{i}" for i in range(rows)],
                        "event.original": [f"d{day} b{batch} r{i}" for i in range(rows)],
                    }
                ),
                root,
                f"d{day}-b{batch}",
            )
    old = root / "day=2026-11-02" / "org=_staging" / "part-old.parquet"
    pq.write_table(
        pa.table({"@timestamp": pa.array([at(2026, 11, 2, 9)] * 2, pa.timestamp("us", "UTC")),
                  "source.ip": ["10.9.9.1", "10.9.9.2"], "event.original": ["old 0", "old 1"]}),
        old,
    )  # fmt: skip
    write_batch(pl.DataFrame({"@timestamp": [None], "source.ip": ["10.0.0.1"]}), root, "nodate")


def test_scan_numbers_rows_within_their_files_as_duckdb_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows kept from any batch of files name their file and row as ``Hunt.rows`` reads them."""
    from bastion.boundary import hunting

    _scan_archive(tmp_path)
    monkeypatch.setattr(hunting, "SCAN_BYTES", 1)  # a batch per file
    with hunting.Hunt(tmp_path) as opened:
        kept = opened.scan(
            ["source.ip"], lambda f: f["source.ip"].str.ends_with(".2"), at(2026, 11, 1)
        )
        raw = opened.rows(kept.select(hunting.FILE, hunting.ROW), ["event.original"])
    assert sorted(kept["source.ip"].to_list()) == sorted(
        [f"10.{d}.{b}.2" for d in (1, 2, 3) for b in range(3)] + ["10.9.9.2"]
    )
    # The raw line says which file and row the scan said: they agree.
    expected = [f"d{ip.split('.')[1]} b{ip.split('.')[2]} r2" for ip in kept["source.ip"]]
    expected = [
        "old 1" if ip == "10.9.9.2" else e
        for ip, e in zip(kept["source.ip"], expected, strict=True)
    ]
    assert raw["event.original"].to_list() == expected


def test_rows_reads_what_duckdb_locates_in_the_order_asked(tmp_path: Path) -> None:
    """``Hunt.rows`` fetches the rows DuckDB's ``located`` view names, in the order given."""
    from bastion.boundary import hunting

    _scan_archive(tmp_path)
    with hunting._connect(tmp_path, union=True) as connection:  # located: not open to hunts
        truth = connection.sql(
            f'SELECT {hunting.FILE}, {hunting.ROW}, "event.original", "destination.ip" '
            f'FROM {hunting.LOCATED} WHERE {hunting.ROW} % 2 = 1 ORDER BY "event.original" DESC'
        ).pl()
    with hunting.Hunt(tmp_path) as opened:
        got = opened.rows(
            truth.select(hunting.FILE, hunting.ROW), ["event.original", "destination.ip"]
        )
    assert truth.height > 10
    assert got.columns == [hunting.FILE, hunting.ROW, "event.original", "destination.ip"]
    assert got.select(
        pl.col(hunting.ROW).cast(pl.Int64), "event.original", "destination.ip"
    ).equals(truth.select(pl.col(hunting.ROW).cast(pl.Int64), "event.original", "destination.ip"))
    assert got["destination.ip"].null_count() == 1  # the file lacking the column reads it as null


def test_scan_reads_a_missing_column_as_null_and_skips_days_before_the_period(
    tmp_path: Path,
) -> None:
    from bastion.boundary.hunting import Hunt

    _scan_archive(tmp_path)
    with Hunt(tmp_path) as opened:
        kept = opened.scan(
            ["destination.ip", "source.ip"],
            lambda f: f["destination.ip"].is_null() | f["source.ip"].str.starts_with("10.3."),
            at(2026, 11, 2, 3),  # day 1 wholly before, day 2 partly
        )
    day_two_old = kept.filter(pl.col("destination.ip").is_null())
    assert day_two_old["source.ip"].to_list() == ["10.9.9.1", "10.9.9.2"]
    assert kept.height == 2 + 5 + 6 + 7  # day 3 whole; the undated event never
    with Hunt(tmp_path) as opened:
        empty = opened.scan(["source.ip"], lambda f: f["source.ip"].is_not_null(), at(2027, 1, 1))
    assert empty.is_empty()
    assert empty.columns == ["source.ip", "file", "file_row_number"]


@pytest.mark.parametrize("dictionary", [True, False])
def test_scan_reads_dictionary_and_plain_columns_alike(tmp_path: Path, dictionary: bool) -> None:
    from bastion.boundary.hunting import Hunt

    values = ["192.0.2.1", "192.0.2.2", None] * 400
    frame = pl.DataFrame(
        {"@timestamp": [at(2026, 11, 1, 1)] * len(values), "destination.ip": values}
    ).with_columns(pl.lit("ORG").alias("organization.id"))
    target = tmp_path / "day=2026-11-01" / "org=ORG" / "part-c1.parquet"
    target.parent.mkdir(parents=True)
    pq.write_table(frame.to_arrow(), target, use_dictionary=dictionary, data_page_size=512)
    with Hunt(tmp_path) as opened:
        kept = opened.scan(
            ["destination.ip"], lambda f: f["destination.ip"] == "192.0.2.2", at(2026, 11, 1)
        )
    assert kept["file_row_number"].to_list() == list(range(1, len(values), 3))


def test_hunt_query_over_its_memory_limit_runs_again_without_it(tmp_path: Path) -> None:
    from bastion.boundary.hunting import Hunt

    count = 200_000
    frame = pl.DataFrame(
        {
            "@timestamp": [at(2026, 11, 1, 1)] * count,
            "organization.id": ["ORG"] * count,
            "url.domain": pl.select(pl.format("host-{}.example", pl.int_range(count))).to_series(),
        }
    )
    write_batch(frame, tmp_path, "big")
    with Hunt(tmp_path, memory_limit="2MB") as opened:
        distinct = 'SELECT count(*) FROM (SELECT DISTINCT "url.domain" FROM events)'
        assert opened.query(distinct).item() == count
