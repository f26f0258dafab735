from __future__ import annotations

import gzip
import io
import threading
import time
from pathlib import Path

import pytest
import zstandard

from bastion.boundary.sources import (
    Chunk,
    compression,
    expand_paths,
    fingerprint,
    follow,
    open_source,
    read_chunks,
)
from bastion.core import InputError

TEXT = (
    b"".join(f"line {i:04d} {'x' * (i % 17)}\n".encode() for i in range(500)) + b"tail-no-newline"
)


def _write_all_kinds(tmp_path: Path) -> dict[str, Path]:
    plain = tmp_path / "a.log"
    plain.write_bytes(TEXT)
    gz = tmp_path / "a.log.gz"
    gz.write_bytes(gzip.compress(TEXT))
    zst = tmp_path / "a.log.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(TEXT))
    return {"none": plain, "gzip": gz, "zstd": zst}


def test_compression_detected_by_content_and_same_fingerprint(tmp_path: Path) -> None:
    paths = _write_all_kinds(tmp_path)
    for kind, path in paths.items():
        assert compression(path) == kind
        with open_source(path) as stream:
            assert stream.read() == TEXT
    assert len({fingerprint(p) for p in paths.values()}) == 1


@pytest.mark.parametrize("kind", ["none", "gzip", "zstd"])
def test_chunks_are_complete_lines_and_cover_everything(tmp_path: Path, kind: str) -> None:
    path = _write_all_kinds(tmp_path)[kind]
    with open_source(path) as stream:
        chunks = list(read_chunks(stream, chunk_size=1000))
    assert b"".join(c.data for c in chunks) == TEXT
    assert all(c.data.endswith(b"\n") for c in chunks[:-1])
    assert [c.offset for c in chunks[1:]] == [c.end for c in chunks[:-1]]


@pytest.mark.parametrize("kind", ["none", "gzip"])
def test_resuming_from_an_offset_cuts_the_same_chunks(tmp_path: Path, kind: str) -> None:
    path = _write_all_kinds(tmp_path)[kind]
    with open_source(path) as stream:
        full = list(read_chunks(stream, chunk_size=1000))
    with open_source(path) as stream:
        resumed = list(read_chunks(stream, start=full[3].offset, chunk_size=1000))
    assert resumed == full[3:]


def test_a_line_longer_than_a_chunk_is_never_split() -> None:
    data = b"short\n" + b"y" * 5000 + b"\nend\n"
    chunks = list(read_chunks(io.BytesIO(data), chunk_size=1000))
    assert b"".join(c.data for c in chunks) == data
    assert all(c.data.endswith(b"\n") for c in chunks)
    assert sum(b"y" * 5000 + b"\n" in c.data for c in chunks) == 1


def test_directories_expand_recursively_and_missing_paths_are_named(tmp_path: Path) -> None:
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "b.log").write_text("x\n")
    (tmp_path / "d" / "e" / "a.log").write_text("x\n")
    (tmp_path / "d" / ".hidden").write_text("x\n")
    assert expand_paths([tmp_path / "d"]) == [
        tmp_path / "d" / "b.log",
        tmp_path / "d" / "e" / "a.log",
    ]
    with pytest.raises(InputError, match=r"nope\.log: no such file"):
        expand_paths([tmp_path / "nope.log"])


def test_follow_survives_rotation_and_waits_for_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "live.log"
    path.write_bytes(b"one\ntw")
    seen: list[tuple[int, Chunk]] = []
    stop = threading.Event()

    def reader() -> None:
        for item in follow(path, poll=0.02, should_stop=stop.is_set):
            seen.append(item)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        _wait(lambda: len(seen) == 1)
        with path.open("ab") as f:
            f.write(b"o\nthree\n")
        _wait(lambda: len(seen) == 2)
        path.rename(tmp_path / "live.log.1")
        path.write_bytes(b"rotated\n")
        _wait(lambda: len(seen) == 3)
    finally:
        stop.set()
        thread.join()
    assert [(g, c.data, c.offset) for g, c in seen] == [
        (0, b"one\n", 0),
        (0, b"two\nthree\n", 4),
        (1, b"rotated\n", 0),
    ]


def _wait(condition: object, timeout: float = 5.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
