"""Property tests of the beacon score, within stated bounds.

A beacon scores at or above the threshold when: its period is 30 s to 30 min; each
connection is jittered uniformly by up to ±20 % of the period; it may sleep once for
up to 8 hours (a laptop shut overnight); its bytes sent vary by up to ±10 %. People
browsing (connections at random moments of the working day, sizes log-normal) score
below it.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.behaviour.helpers import day_start

from bastion.behaviour.beacons import score_pairs
from bastion.behaviour.config import DEFAULT_CONFIG

DAY_S = 86_400


def _score(stamps_s: np.ndarray, sent: np.ndarray) -> float:
    frame = pl.DataFrame(
        {
            "org": "RAA",
            "host": "10.0.0.5",
            "dest": "203.0.113.9",
            "remote": "203.0.113.9",
            "ts": pl.Series((day_start() + stamps_s * 1e6).astype(np.int64)).cast(
                pl.Datetime("us", "UTC")
            ),
            "sent": sent.astype(np.int64),
        }
    )
    scored = score_pairs(frame.lazy(), DEFAULT_CONFIG).collect()
    assert scored.height == 1
    return float(scored["score"][0])


@settings(max_examples=60, deadline=None)
@given(
    period=st.floats(30, 1800),
    jitter=st.floats(0, 0.2),
    sleep_hours=st.floats(0, 8),
    sleep_at=st.floats(0, 1),
    size=st.integers(64, 100_000),
    noise=st.floats(0, 0.1),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_jittered_sleeping_noisy_beacon_scores_above_the_threshold(
    period: float, jitter: float, sleep_hours: float, sleep_at: float, size: int, noise: float,
    seed: int,
) -> None:  # fmt: skip
    rng = np.random.default_rng(seed)
    stamps = np.arange(0, DAY_S - period, period)
    stamps = stamps + rng.uniform(-jitter, jitter, len(stamps)) * period
    start = sleep_at * (DAY_S - sleep_hours * 3600)
    awake = (stamps < start) | (stamps >= start + sleep_hours * 3600)
    stamps = np.clip(stamps[awake], 0, DAY_S - 1)
    sent = size * (1 + rng.uniform(-noise, noise, len(stamps)))
    assert _score(stamps, sent) >= DEFAULT_CONFIG.threshold


@settings(max_examples=60, deadline=None)
@given(
    visits=st.integers(DEFAULT_CONFIG.beacon_min_connections, 3000),
    start_hour=st.floats(0, 12),
    hours=st.floats(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_people_browsing_score_below_the_threshold(
    visits: int, start_hour: float, hours: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    stamps = np.sort(rng.uniform(start_hour, start_hour + hours, visits)) * 3600
    sent = rng.lognormal(7, 1.5, visits)
    assert _score(stamps, sent) < DEFAULT_CONFIG.threshold
