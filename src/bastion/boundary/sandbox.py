"""Hunts from the console and the API: the archive in a locked DuckDB, one query per caller.

A sandboxed hunt opens the archive as ``Hunt`` does — an in-memory DuckDB whose
``events`` view reads the archive's Parquet files, with ``allowed_directories`` set
to the archive and ``enable_external_access`` off before the view is created, then
``lock_configuration`` on — and adds what a query typed into a browser needs:

* one ``SELECT`` only (``Hunt`` refuses every other statement: ``COPY``, ``ATTACH``,
  ``INSTALL``, ``LOAD``, ``SET``, ``PRAGMA``, ``CREATE``…), and DuckDB itself refuses
  any file, URL or extension outside the archive, and any change of its settings;
* a memory limit that a query over it fails on (it is not run again without it),
  two threads, and spilling capped at the memory limit's size;
* a time limit: a query still running after it is interrupted;
* one hunt at a time per caller (``HuntSlots``);
* the query's cost: rows scanned, bytes read, seconds.

The database is in memory and thrown away after the query: nothing a hunt could
create would outlive it, and nothing it reads comes from anywhere but the archive.
Only a query the code writes (the console's event search, its values bound as
parameters) may run on a database kept open from an earlier one (``reuse``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from bastion.boundary.hunting import ArchiveState, Hunt, HuntInterrupted, archive_state
from bastion.core.errors import ConflictError, InputError

# At most this many rows of a hunt are downloaded at once.
DOWNLOAD_ROWS = 1_000_000


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandboxed hunt may take: memory (DuckDB's units), seconds and threads."""

    memory_limit: str = "512MB"
    seconds: float = 30.0
    threads: int = 2


@dataclass(frozen=True)
class HuntCost:
    """What a hunt cost: the archive rows its scans read, the bytes read, the seconds."""

    rows_scanned: int
    bytes_read: int
    seconds: float


@dataclass(frozen=True)
class HuntPage:
    """One page of a hunt's rows, from ``offset``; ``more`` when rows follow it."""

    rows: pl.DataFrame
    offset: int
    more: bool
    cost: HuntCost


class HuntTimedOut(InputError):
    """A sandboxed hunt ran past its time limit and was stopped."""

    http_status = 422


class HuntBusy(ConflictError):
    """The caller already has a hunt running."""


class HuntSlots:
    """Who has a hunt running: one at a time each (in this process)."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, who: str) -> Iterator[None]:
        """Hold ``who``'s slot while the block runs; raise HuntBusy when it is held already."""
        with self._lock:
            if who in self._held:
                msg = "you already have a hunt running: wait for it to finish, then try again"
                raise HuntBusy(msg)
            self._held.add(who)
        try:
            yield
        finally:
            with self._lock:
                self._held.discard(who)


def _settings(limits: SandboxLimits) -> tuple[str, ...]:
    if not 1 <= limits.threads <= 64:
        msg = f"a hunt's threads must be 1 to 64, not {limits.threads}"
        raise InputError(msg)
    memory = limits.memory_limit.replace("'", "")
    return (
        f"SET threads = {int(limits.threads)}",
        f"SET max_temp_directory_size = '{memory}'",
        "SET enable_profiling = 'no_output'",
    )


@contextmanager
def _fresh(root: Path, limits: SandboxLimits) -> Iterator[Hunt]:
    with Hunt(
        root, memory_limit=limits.memory_limit, settings=_settings(limits), strict_memory=True
    ) as hunt:
        yield hunt


class OpenedArchives:
    """Sandboxed archives kept open for the queries the code writes, by archive state.

    Each is used by one query at a time; one that failed is closed, not kept. Only the
    archive's current files are kept open (an archive of other files is closed when
    one of the current is given back)."""

    KEPT = 2  # per archive and limits: queries at once that find one open

    def __init__(self) -> None:
        self._idle: dict[tuple[str, ArchiveState, SandboxLimits], list[Hunt]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def hunt(self, root: Path, limits: SandboxLimits) -> Iterator[Hunt]:
        """Lend a hunt over ``root`` as it is now, sandboxed by ``limits``."""
        key = (str(root.resolve()), archive_state(root), limits)
        with self._lock:
            idle = self._idle.get(key)
            lent = idle.pop() if idle else None
        if lent is None:
            lent = Hunt(
                root, memory_limit=limits.memory_limit, settings=_settings(limits),
                strict_memory=True,
            )  # fmt: skip
        try:
            yield lent
        except BaseException:
            lent.close()
            raise
        stale: list[Hunt] = []
        with self._lock:
            for other in [k for k in self._idle if k[0] == key[0] and k[1] != key[1]]:
                stale += self._idle.pop(other)
            kept = self._idle.setdefault(key, [])
            if len(kept) < self.KEPT:
                kept.append(lent)
            else:
                stale.append(lent)
        for hunt in stale:
            hunt.close()

    def close(self) -> None:
        """Close every archive kept open."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for hunts in idle.values():
            for hunt in hunts:
                hunt.close()


_OPENED = OpenedArchives()


def run_sandboxed(
    root: Path,
    sql: str,
    *,
    limits: SandboxLimits,
    limit: int,
    offset: int = 0,
    params: list[Any] | None = None,
    reuse: bool = False,
) -> HuntPage:
    """Run one SELECT over the archive's ``events`` in the sandbox; return ``limit`` rows
    from ``offset`` and what the query cost. ``params`` are bound to its ``?``.

    ``reuse``: for a query the code writes (never one a person typed), run it on a
    database kept open from an earlier such query over the same archive files, not a
    new one (opening one costs a page ~0.1 s).

    Raise InputError when the query is wrong or not one SELECT, HuntTimedOut when it
    runs past ``limits.seconds``.
    """
    if limit < 1 or offset < 0:
        msg = f"a hunt page needs a limit of 1 or more and an offset of 0 or more, not {limit}, {offset}"
        raise InputError(msg)
    opened = _OPENED.hunt(root, limits) if reuse else _fresh(root, limits)
    with opened as hunt:
        timer = threading.Timer(limits.seconds, hunt.interrupt)
        started = time.perf_counter()
        timer.start()
        try:
            frame = hunt.query(sql, limit=limit + 1, offset=offset, params=params)
        except HuntInterrupted:
            msg = (
                f"the hunt ran longer than {limits.seconds:g} s and was stopped: narrow it "
                "(a day, an organisation, fewer columns) or aggregate"
            )
            raise HuntTimedOut(msg) from None
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        profile = hunt.profile()
    cost = HuntCost(
        rows_scanned=int(profile.get("rows_scanned") or 0),
        bytes_read=int(profile.get("total_bytes_read") or 0),
        seconds=round(seconds, 4),
    )
    return HuntPage(frame.head(limit), offset, frame.height > limit, cost)


def printable(frame: pl.DataFrame) -> pl.DataFrame:
    """Make every column JSON- and CSV-friendly: times as ISO strings, decimals as floats."""
    plain = (pl.String, pl.Boolean, pl.Null, pl.List, pl.Struct, pl.Array)
    columns: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            column = column.dt.to_string("iso:strict")
        elif isinstance(dtype, pl.Decimal):
            column = column.cast(pl.Float64)
        elif not (dtype.is_numeric() or isinstance(dtype, plain)):
            column = column.cast(pl.String)
        columns.append(column)
    return frame.select(columns)
