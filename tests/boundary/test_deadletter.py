from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from bastion.boundary.deadletter import read_rejects, write_rejects
from bastion.core.errors import InputError

NOW = datetime(2024, 3, 1, 23, 59, tzinfo=UTC)


def rejects(n: int = 2) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": ["/logs/conn.log"] * n,
            "line": list(range(3, 3 + n)),
            "offset": [100 * i for i in range(n)],
            "format": ["zeek-tsv"] * n,
            "raw": [f'bad\tline "{i}" ünïcode' for i in range(n)],
            "reason": ["expected 21 fields, found 2"] * n,
        },
        schema_overrides={"line": pl.Int64, "offset": pl.Int64},
    )


def test_rejects_round_trip_with_batch_id(tmp_path: Path) -> None:
    assert write_rejects(rejects(), tmp_path, "b-1", now=NOW) == 2
    path = tmp_path / "2024-03-01" / "b-1.jsonl"
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first == {
        "source": "/logs/conn.log",
        "line": 3,
        "offset": 0,
        "format": "zeek-tsv",
        "raw": 'bad\tline "0" ünïcode',
        "reason": "expected 21 fields, found 2",
    }
    back = read_rejects(tmp_path)
    assert back.drop("batch_id").equals(rejects())
    assert back["batch_id"].to_list() == ["b-1", "b-1"]


def test_rewriting_a_batch_replaces_it_even_on_another_day(tmp_path: Path) -> None:
    write_rejects(rejects(), tmp_path, "b-1", now=NOW)
    write_rejects(rejects(), tmp_path, "b-1", now=datetime(2024, 3, 2, 0, 1, tzinfo=UTC))
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "2024-03-01",
        "2024-03-01/b-1.jsonl",
    ]
    assert read_rejects(tmp_path).height == 2


def test_two_batches_are_both_kept_in_day_then_batch_order(tmp_path: Path) -> None:
    write_rejects(rejects(1), tmp_path, "b-2", now=datetime(2024, 3, 2, tzinfo=UTC))
    write_rejects(rejects(2), tmp_path, "b-1", now=NOW)
    assert read_rejects(tmp_path)["batch_id"].to_list() == ["b-1", "b-1", "b-2"]


def test_missing_columns_are_written_as_null_not_dropped(tmp_path: Path) -> None:
    write_rejects(pl.DataFrame({"raw": ["???"], "reason": ["unreadable"]}), tmp_path, "b", now=NOW)
    back = read_rejects(tmp_path)
    assert back.row(0, named=True) == {
        "source": None,
        "line": None,
        "offset": None,
        "format": None,
        "raw": "???",
        "reason": "unreadable",
        "batch_id": "b",
    }


def test_no_rejects_writes_no_file_and_empty_root_reads_empty(tmp_path: Path) -> None:
    assert write_rejects(rejects().clear(), tmp_path, "b-1", now=NOW) == 0
    assert list(tmp_path.iterdir()) == []
    empty = read_rejects(tmp_path / "missing")
    assert empty.is_empty()
    assert empty.columns == ["source", "line", "offset", "format", "raw", "reason", "batch_id"]


def test_unsafe_batch_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="invalid batch id"):
        write_rejects(rejects(), tmp_path, "../b", now=NOW)
