"""Draw whole columns of random values at once, reproducibly from a seed.

The bytes come from ``random.Random.randbytes`` (Mersenne Twister, stable across
Python versions), viewed as unsigned integers without copying; everything else is
Polars arithmetic on the column, so a million draws cost one call, not a loop.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import polars as pl

_TWO_32 = 1 << 32


class Draw:
    """A seeded source of random columns."""

    def __init__(self, *seed: object) -> None:
        # Seeding from a string is stable across runs (it is hashed with SHA-512, not hash()).
        self.rng = random.Random(":".join(str(s) for s in seed))

    def u32(self, n: int) -> pl.Series:
        """Return ``n`` uniform unsigned 32-bit integers."""
        if n <= 0:
            return pl.Series([], dtype=pl.UInt32)
        return pl.Series(np.frombuffer(self.rng.randbytes(4 * n), dtype="<u4"))

    def ints(self, n: int, low: int, high: int) -> pl.Series:
        """Return ``n`` integers uniform in ``[low, high)`` (ranges beyond 2**32 are coarser)."""
        span = max(1, high - low)
        if span <= _TWO_32:
            # Multiply-shift rather than modulo: no bias towards small values.
            scaled = (self.u32(n).cast(pl.UInt64) * span) // _TWO_32
            return (scaled.cast(pl.Int64) + low).rename("")
        return (self.floats(n) * span).floor().cast(pl.Int64) + low

    def floats(self, n: int) -> pl.Series:
        """Return ``n`` floats uniform in ``[0, 1)``."""
        return self.u32(n).cast(pl.Float64) / _TWO_32

    def skewed(self, n: int, high: int, power: float = 3.0) -> pl.Series:
        """Return ``n`` integers in ``[0, high)``, low values far likelier (a few talk a lot)."""
        return (self.floats(n).pow(power) * high).floor().cast(pl.Int64).clip(0, high - 1)

    def choice(
        self, n: int, values: Sequence[str] | pl.Series, weights: Sequence[float] | None = None
    ) -> pl.Series:
        """Return ``n`` picks from ``values``, uniformly or in proportion to ``weights``."""
        pool = values if isinstance(values, pl.Series) else pl.Series(list(values))
        return pool.gather(self.index(n, len(pool), weights))

    def index(self, n: int, size: int, weights: Sequence[float] | None = None) -> pl.Series:
        """Return ``n`` indexes into a pool of ``size``, uniformly or by ``weights``."""
        if weights is None:
            return self.ints(n, 0, size)
        cumulative = pl.Series(list(weights), dtype=pl.Float64).cum_sum()
        total = float(cumulative[-1])
        picks = cumulative.search_sorted(self.floats(n) * total, side="right")
        return picks.cast(pl.Int64).clip(0, size - 1)

    def chance(self, n: int, p: float) -> pl.Series:
        """Return ``n`` booleans, each true with probability ``p``."""
        return self.floats(n) < p


def ipv4(value: pl.Expr) -> pl.Expr:
    """Format integer IPv4 addresses as dotted quads."""
    return pl.concat_str(
        [((value // (1 << shift)) % 256).cast(pl.String) for shift in (24, 16, 8, 0)],
        separator=".",
    )
