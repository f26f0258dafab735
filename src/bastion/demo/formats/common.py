"""The flow frame every demo log is rendered from, and column helpers the renderers share.

Benign generators and planted attacks both build flow frames (one row per
event, columns as in ``FLOW``); a format's renderer turns a flow frame into
its lines with Polars string expressions, never a loop over events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from bastion.demo.rand import Draw
from bastion.demo.world import World

FLOW: dict[str, pl.DataType] = {
    "ts": pl.Int64(),  # microseconds since the epoch, UTC
    "src": pl.String(),
    "sport": pl.Int64(),
    "dst": pl.String(),
    "dport": pl.Int64(),
    "proto": pl.String(),  # tcp, udp
    "app": pl.String(),  # application: ssl, web-browsing, dns, ntp, smtp …
    "action": pl.String(),  # allow, deny, drop, reset-both (the device's own words are mapped)
    "bytes_out": pl.Int64(),
    "bytes_in": pl.Int64(),
    "pkts_out": pl.Int64(),
    "pkts_in": pl.Int64(),
    "duration_ms": pl.Int64(),
    "host": pl.String(),  # HTTP host / proxy target
    "path": pl.String(),  # request target, origin form
    "method": pl.String(),
    "status": pl.Int64(),
    "ua": pl.String(),
    "referrer": pl.String(),
    "mime": pl.String(),
    "qname": pl.String(),
    "qtype": pl.String(),
    "rcode": pl.String(),
    "answer": pl.String(),
    "sni": pl.String(),
    "ja3": pl.String(),
    "log": pl.String(),  # record type within a format: TRAFFIC/THREAT, traffic/utm
    "threat": pl.String(),
    "threat_kind": pl.String(),  # url, vulnerability, spyware …
    "severity": pl.String(),
    "category": pl.String(),
    "rule": pl.String(),
    "device": pl.String(),
    "uid": pl.String(),  # Zeek connection uid
}

Benign = Callable[[World, Draw, pl.Series], pl.DataFrame]
Render = Callable[[pl.DataFrame], pl.Series]
Frame = Callable[[int], list[str]]


@dataclass(frozen=True)
class LogSpec:
    """One log file of the demo day: its format, where it goes, and how to make its lines."""

    format: str  # the Bastion parser that reads it
    path: str  # relative to the output folder
    share: float  # of the benign events
    benign: Benign
    render: Render
    header: Frame | None = None  # lines before the events, given the day's first microsecond
    footer: Frame | None = None  # lines after the events, given the day's last microsecond


def flows(**columns: Any) -> pl.DataFrame:
    """Return a flow frame from columns (Series, lists or scalars); the rest are null."""
    height = max((len(v) for v in columns.values() if isinstance(v, pl.Series | list)), default=1)
    data = {}
    for name, dtype in FLOW.items():
        value = columns.pop(name, None)
        if isinstance(value, pl.Series):
            data[name] = value.cast(dtype).rename(name)
        elif isinstance(value, list):
            data[name] = pl.Series(name, value, dtype=dtype)
        else:
            data[name] = pl.repeat(value, height, dtype=dtype, eager=True).rename(name)
    if columns:
        msg = f"not flow columns: {', '.join(sorted(columns))}"
        raise TypeError(msg)
    return pl.DataFrame(data)


def text(name: str, default: str = "") -> pl.Expr:
    """Return a column as text, ``default`` where null."""
    return pl.col(name).cast(pl.String).fill_null(default)


def timestamp(fmt: str, name: str = "ts", shift_us: int = 0) -> pl.Expr:
    """Format a microsecond column with strftime ``fmt`` (UTC)."""
    return pl.from_epoch(pl.col(name) + shift_us, time_unit="us").dt.strftime(fmt)


def epoch_decimal(name: str = "ts", digits: int = 6) -> pl.Expr:
    """Format microseconds as epoch seconds with ``digits`` decimals (Zeek, Squid)."""
    unit = 10 ** (6 - digits)
    whole = (pl.col(name) // 1_000_000).cast(pl.String)
    fraction = ((pl.col(name) % 1_000_000) // unit).cast(pl.String).str.zfill(digits)
    return pl.concat_str([whole, pl.lit("."), fraction])


def csv_field(expr: pl.Expr, *, always: bool = False) -> pl.Expr:
    """Quote a CSV field (doubling quotes) when it holds a comma or quote, or ``always`` unless empty."""
    quoted = pl.concat_str(
        [pl.lit('"'), expr.str.replace_all('"', '""', literal=True), pl.lit('"')]
    )
    needs = (expr != "") if always else expr.str.contains('[,"]')
    return pl.when(needs).then(quoted).otherwise(expr)


def joined(parts: Sequence[pl.Expr | str], separator: str = "") -> pl.Expr:
    """Concatenate ``parts`` (expressions or constant text), merging runs of constants.

    Polars concatenates row by row, so its cost grows with the number of inputs:
    folding constant fields and separators into single literals halves a wide record's cost.
    """
    merged: list[pl.Expr | str] = []
    for index, part in enumerate(parts):
        pieces: list[pl.Expr | str] = [separator, part] if index and separator else [part]
        for piece in pieces:
            if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                merged[-1] += piece
            else:
                merged.append(piece)
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in merged])


def pick(draw: Draw, n: int, values: dict[str, float]) -> pl.Series:
    """Return ``n`` picks from the keys of ``values``, weighted by its values."""
    return draw.choice(n, list(values), list(values.values()))


def ephemeral_ports(draw: Draw, n: int) -> pl.Series:
    """Return ``n`` client source ports from the dynamic range."""
    return draw.ints(n, 49152, 65536)


def members_to_internet(world: World, draw: Draw, n: int) -> dict[str, pl.Series]:
    """Return the ``src``, ``sport`` and ``dst`` of ``n`` flows from members' clients out.

    Drawn in that order: spread into ``flows`` before the other columns, so the draws
    (and the demo day) stay what they are.
    """
    return {
        "src": world.clients(draw, n),
        "sport": ephemeral_ports(draw, n),
        "dst": world.internet(draw, n),
    }
