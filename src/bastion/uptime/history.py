"""Probe history on disk as Parquet: raw results, then minutes, hours and days.

Layout under the root folder::

    raw/<YYYYMMDDHH>/<batch>.parquet   each agent's results, kept 24 h (file per batch:
                                       a redelivered batch overwrites itself)
    minute/<YYYYMMDDHH>.parquet        quorum-decided counts per monitor-minute, kept 24 h
    hour/<YYYYMMDD>.parquet            the minutes summed per hour, kept 30 days
    day/<YYYY>.parquet                 the hours summed per day, kept for years

Every level holds the same counts (checks, down, maintenance, latency sum and
count), so availability over any period is one sum, whatever the resolution.
``counts`` reads the finest level that still covers each part of a period.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from bastion.core.timeutil import as_utc
from bastion.uptime.quorum import MINUTE_SCHEMA, conform_raw

MINUTES_KEPT = timedelta(hours=24)
HOURS_KEPT = timedelta(days=30)
_SUMS = ("checks", "down", "maintenance", "latency_sum", "latency_n")


def _hour(moment: datetime) -> datetime:
    return as_utc(moment).replace(minute=0, second=0, microsecond=0)


def _write(frame: pl.DataFrame, path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    frame.write_parquet(partial, compression="zstd", compression_level=9, statistics=True)
    partial.replace(path)


def _read(paths: Iterable[Path]) -> pl.DataFrame:
    found = [p for p in paths if p.exists()]
    if not found:
        return pl.DataFrame(schema=MINUTE_SCHEMA)
    # Cast on read: a file written by an older version keeps its own column types.
    return pl.concat(
        [
            pl.read_parquet(p).select(pl.col(n).cast(t) for n, t in MINUTE_SCHEMA.items())
            for p in found
        ]
    )


def summed(frame: pl.DataFrame, every: str) -> pl.DataFrame:
    """Sum counts per monitor into periods of ``every`` ("1h", "1d"), keeping the schema."""
    return (
        frame.with_columns(pl.col("minute").dt.truncate(every))
        .group_by("monitor", "minute")
        .agg(pl.col(c).sum() for c in _SUMS)
        .select(pl.col(n).cast(t) for n, t in MINUTE_SCHEMA.items())
        .sort("monitor", "minute")
    )


class History:
    """The probe history of one Bastion, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # Raw results -------------------------------------------------------------
    def append_raw(self, frame: pl.DataFrame, batch: str) -> set[datetime]:
        """Store one batch of results (by hour); return the hours it touched."""
        frame = conform_raw(frame)
        hours = set()
        for (hour,), part in frame.group_by(pl.col("at").dt.truncate("1h")):
            stamp = _hour(hour)
            _write(part, self.root / "raw" / f"{stamp:%Y%m%d%H}" / f"{batch}.parquet")
            hours.add(stamp)
        return hours

    def raw_changed_since(self, moment: float) -> set[datetime]:
        """Return the hours whose raw results changed after ``moment`` (a file time)."""
        folder = self.root / "raw"
        if not folder.is_dir():
            return set()
        return {
            datetime.strptime(d.name, "%Y%m%d%H").replace(tzinfo=UTC)
            for d in folder.iterdir()
            if d.is_dir() and d.stat().st_mtime >= moment
        }

    def raw(self, hour: datetime) -> pl.DataFrame:
        """Return every raw result of one hour."""
        folder = self.root / "raw" / f"{_hour(hour):%Y%m%d%H}"
        files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if not files:
            return conform_raw(pl.DataFrame())
        return conform_raw(pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed"))

    # Minutes, hours, days ----------------------------------------------------
    def write_minutes(self, hour: datetime, frame: pl.DataFrame) -> None:
        """Replace one hour's minute counts (they are recomputed whole when results arrive)."""
        _write(frame, self.root / "minute" / f"{_hour(hour):%Y%m%d%H}.parquet")

    def _minute_files(self, start: datetime, end: datetime) -> list[Path]:
        hour, files = _hour(start), []
        while hour < end:
            files.append(self.root / "minute" / f"{hour:%Y%m%d%H}.parquet")
            hour += timedelta(hours=1)
        return files

    def _level_files(self, level: str, start: datetime, end: datetime) -> list[Path]:
        folder = self.root / level
        if not folder.is_dir():
            return []
        fmt = "%Y%m%d" if level == "hour" else "%Y"
        low, high = f"{start:{fmt}}", f"{end:{fmt}}"
        return sorted(p for p in folder.glob("*.parquet") if low <= p.stem <= high)

    def counts(self, start: datetime, end: datetime, *, now: datetime) -> pl.DataFrame:
        """Return the counts of [start, end): minutes from the last 24 h, then hours, then days.

        A row's ``minute`` is the start of the period it sums (a minute, an hour or a day).
        """
        start, end, now = as_utc(start), as_utc(end), as_utc(now)
        minute_from = _hour(now - MINUTES_KEPT)
        hour_from = (now - HOURS_KEPT).replace(hour=0, minute=0, second=0, microsecond=0)
        parts = []
        if end > minute_from:
            parts.append(_read(self._minute_files(max(start, minute_from), end)))
        if start < minute_from:
            hours = _read(self._level_files("hour", max(start, hour_from), minute_from))
            parts.append(hours.filter(pl.col("minute") < minute_from))
        if start < hour_from:
            days = _read(self._level_files("day", start, hour_from))
            parts.append(days.filter(pl.col("minute") < hour_from))
        frame = pl.concat(parts) if parts else pl.DataFrame(schema=MINUTE_SCHEMA)
        return frame.filter((pl.col("minute") >= start) & (pl.col("minute") < end))

    def recent(
        self,
        now: datetime,
        *,
        detail: timedelta = timedelta(hours=6),
        span: timedelta = timedelta(days=3),
    ) -> pl.DataFrame:
        """Return the counts burn-rate alerts read: minutes for the last ``detail`` (from the
        hour it falls in), hours before that back to ``span`` ago.

        Hours are rolled up as soon as they end, so only the open hours come from minutes; an
        hour row counts as of its start, so the long windows' edges fall on whole hours.
        """
        now = as_utc(now)
        split = _hour(now - detail)
        minutes = _read(self._minute_files(split, now + timedelta(minutes=1)))
        hours = _read(self._level_files("hour", now - span, split))
        hours = hours.filter((pl.col("minute") < split) & (pl.col("minute") >= _hour(now - span)))
        return pl.concat([hours, minutes.filter(pl.col("minute") < now)])

    def roll_up(self, now: datetime) -> dict[str, int]:
        """Sum finished minutes into hours and hours into days; drop what is past keeping.

        Idempotent: an hour or day file is rewritten from all its sources each time.
        """
        now = as_utc(now)
        done = {"hours": 0, "days": 0, "removed": 0}
        current = _hour(now)
        touched_days: set[str] = set()
        for path in sorted((self.root / "minute").glob("*.parquet")):
            hour = datetime.strptime(path.stem, "%Y%m%d%H").replace(tzinfo=now.tzinfo)
            if hour >= current:
                continue
            day_file = self.root / "hour" / f"{hour:%Y%m%d}.parquet"
            existing = _read([day_file]).filter(pl.col("minute") != hour)
            _write(
                pl.concat([existing, summed(_read([path]), "1h")]).sort("monitor", "minute"),
                day_file,
            )
            touched_days.add(f"{hour:%Y%m%d}")
            done["hours"] += 1
            if hour < now - MINUTES_KEPT:
                path.unlink()
                done["removed"] += 1
        for stem in sorted(touched_days):
            self._day(stem, now)
            done["days"] += 1
        for path in (self.root / "hour").glob("*.parquet"):
            if datetime.strptime(path.stem, "%Y%m%d").replace(tzinfo=now.tzinfo) < now - HOURS_KEPT:
                path.unlink()
                done["removed"] += 1
        for folder in (self.root / "raw").glob("*"):
            stamp = datetime.strptime(folder.name, "%Y%m%d%H").replace(tzinfo=now.tzinfo)
            if stamp < now - MINUTES_KEPT:
                for file in folder.glob("*"):
                    file.unlink()
                folder.rmdir()
                done["removed"] += 1
        return done

    def _day(self, stem: str, now: datetime) -> None:
        day = datetime.strptime(stem, "%Y%m%d").replace(tzinfo=now.tzinfo)
        year_file = self.root / "day" / f"{day:%Y}.parquet"
        existing = _read([year_file]).filter(pl.col("minute") != day)
        fresh = summed(_read([self.root / "hour" / f"{stem}.parquet"]), "1d")
        _write(pl.concat([existing, fresh]).sort("monitor", "minute"), year_file)
