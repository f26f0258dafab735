"""Shared field helpers of issue 23: ``localise`` (time zones), ``ip_address``, ``user_parts``."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.boundary.parsers.fields import ip_address, localise, user_parts


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


def _addresses(values: list[str]) -> list[str | None]:
    frame = pl.DataFrame({"a": values}, schema={"a": pl.String})
    return frame.select(ip_address(pl.col("a"))).to_series().to_list()


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def test_ip_address_keeps_addresses_and_nulls_the_rest() -> None:
    good = [
        "10.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "2001:db8::1",
        "::",
        "::1",
        "fe80::1:2",
        "1:2:3:4:5:6:7:8",
        "::ffff:192.0.2.1",
        "1:2:3:4:5:6:1.2.3.4",
        "2001:DB8::A",
    ]
    bad = [
        "",
        "fw01",
        "10.0.0.256",
        "10.0.0",
        "10.0.0.1:443",
        "01.2.3.4",
        "1:2:3:4:5:6:7:8:9",
        "1::2::3",
        ":::",
        "dmz:OCSP_Server",
        "10.0.0.1 ",
        "2001:db8::1%eth0",
        "12345::",
    ]
    assert _addresses(good) == good
    assert _addresses(bad) == [None] * len(bad)


_ADDRESSY = st.text(st.sampled_from("0123456789abcdefABCDEF:.%x "), max_size=45)


@settings(max_examples=300, deadline=None)
@given(value=_ADDRESSY | st.ip_addresses().map(str))
def test_ip_address_never_keeps_a_non_address(value: str) -> None:
    [kept] = _addresses([value])
    assert kept is None or _is_address(kept)


def test_user_parts_splits_windows_and_upn_forms() -> None:
    users = ["NHS\\alice", "bob@trust.nhs.uk", "carol", "", None, "\\dave", "a@b@c"]
    frame = pl.DataFrame({"u": users}, schema={"u": pl.String})
    name, domain = user_parts(pl.col("u"))
    got = frame.select(name.alias("n"), domain.alias("d")).rows()
    assert got == [
        ("alice", "NHS"),
        ("bob", "trust.nhs.uk"),
        ("carol", None),
        (None, None),
        (None, None),
        ("dave", None),
        ("a@b", "c"),
    ]
