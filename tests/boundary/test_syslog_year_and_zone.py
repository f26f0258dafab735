"""Yearless syslog dates take their year from when the lines arrived; zoneless times a zone.

Issue 23: a ``Dec 31`` line read on ``Jan 1`` (a stream) or from a file last written in
January is from the year before, not from the year the file or clock says; a source's
time zone reads BSD header times, UTC staying the default.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import Result

from bastion.boundary.parsers import ParseContext, get_parser
from bastion.boundary.syslog import split_syslog

Run = Callable[..., Result]
DEC_31 = (
    "Dec 31 23:59:58 gw01 kernel: DROP IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.1 LEN=40 PROTO=TCP"
)
JAN_1 = "Jan  1 00:00:03 gw01 kernel: DROP IN=eth0 OUT= SRC=192.0.2.2 DST=10.0.0.1 LEN=40 PROTO=TCP"


def times(
    lines: list[str], year: int, *, timezone: str = "UTC", received: datetime | None = None
) -> list[datetime]:
    frame = split_syslog(
        pl.Series(lines, dtype=pl.String), year, timezone=timezone, received=received
    )
    return frame.get_column("syslog.timestamp").to_list()


def test_a_december_date_received_in_january_is_from_the_year_before() -> None:
    received = datetime(2027, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert times([DEC_31, JAN_1], 2027, received=received) == [
        datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, 3, tzinfo=UTC),
    ]


def test_without_a_receive_time_the_default_year_is_kept_and_years_in_the_header_win() -> None:
    assert times([DEC_31], 2027) == [datetime(2027, 12, 31, 23, 59, 58, tzinfo=UTC)]
    with_year = "<166>Dec 31 2027 23:59:58 asa01 : %ASA-6-302013: Built"
    received = datetime(2027, 1, 1, tzinfo=UTC)
    assert times([with_year], 2027, received=received) == [
        datetime(2027, 12, 31, 23, 59, 58, tzinfo=UTC)
    ]


def test_a_stream_context_rolls_back_by_its_receive_time() -> None:
    ctx = ParseContext(default_year=2027, received=datetime(2027, 1, 1, 0, 5, tzinfo=UTC))
    result = get_parser("iptables").parse(pl.Series([DEC_31, JAN_1]), ctx)
    assert [t.year for t in result.events.get_column("@timestamp")] == [2026, 2027]
    assert abs(ParseContext().received - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("zone", "line", "utc"),
    [
        ("UTC", "Jul  1 13:00:00 gw01 x: y", datetime(2025, 7, 1, 13, 0, tzinfo=UTC)),
        ("Europe/London", "Jul  1 13:00:00 gw01 x: y", datetime(2025, 7, 1, 12, 0, tzinfo=UTC)),
        ("Europe/London", "Nov 25 13:00:00 gw01 x: y", datetime(2025, 11, 25, 13, 0, tzinfo=UTC)),
        (
            "America/Los_Angeles",
            "<166>Nov 25 2025 13:01:02 asa01 : %ASA-6-302013: x",
            datetime(2025, 11, 25, 21, 1, 2, tzinfo=UTC),
        ),
        # RFC 3339 times carry their offset: the source's zone does not move them.
        (
            "America/Los_Angeles",
            "2025-11-25T13:01:02+01:00 gw01 x: y",
            datetime(2025, 11, 25, 12, 1, 2, tzinfo=UTC),
        ),
    ],
)
def test_bsd_header_times_are_read_in_the_sources_time_zone(
    zone: str, line: str, utc: datetime
) -> None:
    assert times([line], 2025, timezone=zone) == [utc]


def test_a_file_last_written_in_january_puts_its_december_lines_in_the_year_before(
    bastion: Run, tmp_path: Path
) -> None:
    assert bastion("init").exit_code == 0
    log = tmp_path / "kern.log"
    log.write_text(f"{DEC_31}\n{JAN_1}\n")
    written = datetime(2027, 1, 2, 8, 0, tzinfo=UTC).timestamp()
    os.utime(log, (written, written))
    ingest = bastion("boundary", "ingest", str(log), "--format", "iptables", "--json")
    assert ingest.exit_code == 0, ingest.output
    hunt = bastion("hunt", 'SELECT "@timestamp" FROM events ORDER BY "@timestamp"', "--json")
    assert [row["@timestamp"][:10] for row in json.loads(hunt.stdout)] == [
        "2026-12-31",
        "2027-01-01",
    ]
