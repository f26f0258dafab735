"""A source that cannot be read is skipped with its reason; the sources after it are read."""

from __future__ import annotations

import gzip
from pathlib import Path

from bastion.boundary.pipeline import Pipeline
from bastion.core.settings import Settings
from bastion.store import Store


def _squid(i: int) -> str:
    return f"{1748858400 + i}.000 10 11.0.0.5 TCP_MISS/200 100 GET http://s{i}.example.test/ - HIER_DIRECT/198.18.0.1 text/html\n"


def test_a_file_corrupt_partway_keeps_what_was_read_and_the_next_file_is_ingested(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", ingest_chunk_bytes=4096, ingest_segment_bytes=4096
    )
    pipeline = Pipeline.open(sqlite_store, settings)
    body = "".join(_squid(i) for i in range(2000)).encode()
    whole = gzip.compress(body)
    broken = tmp_path / "a.log.gz"
    broken.write_bytes(whole[: len(whole) // 2])  # the gzip stream ends early
    good = tmp_path / "b.log"
    good.write_text("".join(_squid(i) for i in range(3)))
    first, second = pipeline.ingest_paths([broken, good], "squid")
    assert first.status == "skipped"
    assert first.reason is not None
    assert first.reason.startswith(f"stopped after {first.bytes} bytes: compressed data ends early")
    assert 0 < first.events < 2000  # what was read before the break is kept
    assert first.lines == first.events + first.rejects + first.blank
    assert (second.status, second.events) == ("ingested", 3)


def test_a_corrupt_zstd_file_is_skipped_and_the_next_read(
    sqlite_store: Store, tmp_path: Path
) -> None:
    pipeline = Pipeline.open(sqlite_store, Settings(data_dir=tmp_path / "data"))
    logs = tmp_path / "logs"
    logs.mkdir()
    corrupt = logs / "a.log.zst"
    corrupt.write_bytes(b"\x28\xb5\x2f\xfd" + b"\xff" * 64)  # zstd magic, then noise
    other = logs / "b.log"
    other.write_text(_squid(1))
    first, second = pipeline.ingest_paths([logs], "squid")
    assert first.status == "skipped"
    assert first.reason is not None
    assert first.reason.startswith("corrupt compressed data (zstd")
    assert (second.status, second.events, second.lines) == ("ingested", 1, 1)
