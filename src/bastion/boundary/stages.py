"""The pure stages of the boundary pipeline: parse → attribute → enrich → detect → verdict.

``transform`` takes one chunk's lines and the detector's correlation state and
returns events, rejects, alert candidates and the new correlation state, all
columnar, with no I/O: ``boundary.pipeline`` commits what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from bastion.boundary.attribute import ADDRESS_COLUMNS, NetworkIndex, attribute
from bastion.boundary.behaviour import behaviour
from bastion.boundary.lines import Lines
from bastion.boundary.parsers import ParseContext, Parser
from bastion.boundary.verdict import indicator_candidates, unattributed_matches
from bastion.core.events import ARCHIVE_SCHEMA, LINE_COLUMN, conform
from bastion.core.net import column_keys
from bastion.detect import CorrelationState, Detector, Tuning, drop_disabled_checks
from bastion.intel import MatchIndex


@dataclass(frozen=True)
class Transformed:
    """What one chunk became."""

    events: pl.DataFrame  # ARCHIVE_SCHEMA
    rejects: pl.DataFrame  # source, line, offset, format, raw, reason
    candidates: pl.DataFrame  # alert candidates (core.events.CANDIDATE_SCHEMA)
    matches: int
    unattributed: int
    state: CorrelationState  # the detector's correlation state after this chunk
    lines: int = 0  # every line of the chunk: an event, a reject or blank
    blank: int = 0  # blank lines and format headers (Zeek's # lines)


def transform(
    lines: Lines,
    parser: Parser,
    ctx: ParseContext,
    *,
    networks: NetworkIndex,
    index: MatchIndex,
    first_line: int | None = 1,
    default_org: str | None = None,
    detector: Detector | None = None,
    state: CorrelationState | None = None,
) -> Transformed:
    """Run one chunk's lines through parse, attribute, enrich, detect and verdict.

    ``default_org`` owns the events no registered network claims: a web server's
    access log names its clients but not the server, so the source says whose it is.
    ``state`` is the detector's correlation state before the chunk (None: empty); the
    one after it is returned in ``Transformed.state``, and ``state`` is left as it was.
    """
    before = CorrelationState() if state is None else state
    parsed = parser.read(lines, ctx)
    offsets = pl.Series("log.offset", lines.offsets)
    events = parsed.events.with_columns(
        pl.lit(ctx.source).alias("log.file.path"),
        offsets.gather(parsed.events.get_column(LINE_COLUMN)).alias("log.offset"),
    )
    events = conform(events, ARCHIVE_SCHEMA).drop(LINE_COLUMN, strict=False)
    keys = column_keys(events, ADDRESS_COLUMNS)  # parsed once, for attribute and enrich
    events = attribute(events, networks, keys)
    if default_org is not None:
        events = events.with_columns(pl.col("organization.id").fill_null(default_org))
    matches = index.match(events, keys)
    line_index = parsed.rejects.get_column(LINE_COLUMN)
    rejects = pl.DataFrame(
        {
            "source": pl.Series([ctx.source] * len(line_index), dtype=pl.String),
            "line": line_index + first_line
            if first_line is not None
            else pl.Series([None] * len(line_index), dtype=pl.Int64),
            "offset": offsets.gather(line_index),
            "format": pl.Series([parser.name] * len(line_index), dtype=pl.String),
            "raw": lines.text.gather(line_index),
            "reason": parsed.rejects.get_column("reason"),
        }
    )
    # the built-in checks are tuned like the Sigma rules: off, or at an organisation's threshold
    tuning = detector.tuning if detector is not None else Tuning()
    checks = drop_disabled_checks(
        behaviour(events, tuning.thresholds), tuning.disabled, tuning.disabled_for
    )
    candidates = [indicator_candidates(events, matches), checks]
    after = before
    if detector is not None:
        detected, after = detector.run(events, before)
        candidates.append(detected)
    return Transformed(
        events=events,
        rejects=rejects,
        candidates=pl.concat(candidates),
        matches=matches.height,
        unattributed=unattributed_matches(events, matches),
        state=after,
        lines=len(lines),
        blank=parser.count_blank(lines.text),
    )
