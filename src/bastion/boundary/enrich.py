"""The enrich stage: which listed indicators each event touches."""

from __future__ import annotations

import polars as pl

from bastion.boundary.ipcolumns import IpKeys
from bastion.intel import MatchIndex


def enrich(
    events: pl.DataFrame, index: MatchIndex, keys: dict[str, IpKeys] | None = None
) -> pl.DataFrame:
    """Return the indicator matches of ``events``: one row per (event ``_row``, indicator, field).

    The frame is in ``bastion.intel.MATCH_SCHEMA``; join it to the events on ``_row``
    (the event's position in ``events``). ``keys`` are its addresses already parsed.
    """
    return index.match(events, keys)
