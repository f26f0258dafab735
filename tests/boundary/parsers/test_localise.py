"""``fields.localise``: device times without an offset read in the source's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from bastion.boundary.parsers.fields import localise


def _utc(times: list[datetime | None], zone: str) -> list[datetime | None]:
    naive = pl.Series("t", times, dtype=pl.Datetime("us"))
    return naive.to_frame().select(localise(pl.col("t"), zone)).to_series().to_list()


def test_a_naive_time_is_read_in_the_zone_and_given_in_utc() -> None:
    times = [datetime(2025, 1, 15, 12, 0), datetime(2025, 7, 15, 12, 0), None]
    assert _utc(times, "America/Los_Angeles") == [
        datetime(2025, 1, 15, 20, 0, tzinfo=UTC),  # PST, UTC-8
        datetime(2025, 7, 15, 19, 0, tzinfo=UTC),  # PDT, UTC-7
        None,
    ]
    assert _utc(times, "UTC") == [
        datetime(2025, 1, 15, 12, 0, tzinfo=UTC),
        datetime(2025, 7, 15, 12, 0, tzinfo=UTC),
        None,
    ]


def test_clock_change_hours_never_give_null() -> None:
    # London: 2025-03-30 01:00-02:00 does not exist; 2025-10-26 01:00-02:00 happens twice.
    skipped, repeated = datetime(2025, 3, 30, 1, 30), datetime(2025, 10, 26, 1, 30)
    assert _utc([skipped, repeated], "Europe/London") == [
        datetime(2025, 3, 30, 1, 30, tzinfo=UTC),  # 02:30 BST, the instant a late clock names
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),  # the earlier 01:30, still BST
    ]
