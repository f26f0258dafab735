"""Observations: the hits a correlation refers to, joined to their events and reduced.

One frame per correlation and batch, built with a filter and a gather per
referenced rule (never per hit): time, group values as strings ``_g0 … _gN``,
the value field, and a summary of the event kept as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from bastion.core.events import TIMESTAMP
from bastion.detect.correlation.rules import CorrelationSpec, Reference
from bastion.detect.correlation.windows import MET, NEW, REF, SEQ, TS, VALUE, group_columns

RAW_LIMIT = 1024  # characters of a raw line kept per evidence event
BATCH = "_batch"

# What each observation keeps of its event, for the firing's evidence.
SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "rule.id": pl.String(),
    "rule.name": pl.String(),
    "row": pl.UInt32(),
    "event.dataset": pl.String(),
    "event.type": pl.String(),  # allowed or denied: a firing is blocked if every event was denied
    "source.ip": pl.String(),
    "destination.ip": pl.String(),
    "url.domain": pl.String(),
    "host.ip": pl.String(),
    "organization.id": pl.String(),
    "log.file.path": pl.String(),
    "log.offset": pl.Int64(),
    "event.original": pl.String(),
}
_FROM_EVENT = [c for c in SUMMARY_SCHEMA if c not in {"rule.id", "rule.name", "row"}]


def value_dtype(spec: CorrelationSpec) -> pl.DataType:
    """Return the type of the ``_value`` column: numbers for metric types, text otherwise."""
    return pl.Float64() if spec.numeric else pl.String()


def schema(spec: CorrelationSpec) -> dict[str, pl.DataType]:
    """Return the observation (and state) schema of ``spec``."""
    return {
        SEQ: pl.Int64(),
        BATCH: pl.Int64(),
        REF: pl.Int32(),
        TS: TIMESTAMP,
        **dict.fromkeys(group_columns(spec), pl.String()),
        VALUE: value_dtype(spec),
        **SUMMARY_SCHEMA,
        MET: pl.Boolean(),
        NEW: pl.Boolean(),
    }


def _column(events: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    if name in events.columns:
        return pl.col(name).cast(dtype, strict=False)
    return pl.lit(None, dtype)


def _value(spec: CorrelationSpec, events: pl.DataFrame, fields: list[str]) -> pl.Expr:
    if not fields:
        return pl.lit(None, value_dtype(spec))
    if spec.numeric:
        return _column(events, fields[0], pl.Float64())
    parts = [_column(events, f, pl.String()) for f in fields]
    # Several fields are one value: their combination (null when any is missing).
    return parts[0] if len(parts) == 1 else pl.concat_str(parts, separator="\x1f")


def from_hits(
    spec: CorrelationSpec,
    index: int,
    reference: Reference,
    events: pl.DataFrame,
    hits: pl.DataFrame,
    field_map: Mapping[str, str],
) -> pl.DataFrame:
    """Return the observations of one referenced base rule in this batch."""
    mine = hits.filter(
        pl.col("rule.id").is_in(list(reference.ids))
        | pl.col("rule.name").is_in(list(reference.names))
    )
    if mine.is_empty():
        return pl.DataFrame(schema=schema(spec))

    def field(name: str) -> str:
        return field_map.get(name, name)

    groups = [
        _column(events, field(spec.group_field(g, reference)), pl.String()).alias(k)
        for g, k in zip(spec.group_by, group_columns(spec), strict=False)
    ] or [pl.lit("", pl.String()).alias("_gall")]
    picked = events.select(
        _column(events, TS, TIMESTAMP).alias(TS),
        *groups,
        _value(spec, events, [field(f) for f in spec.fields]).alias(VALUE),
        *(_column(events, c, SUMMARY_SCHEMA[c]).alias(c) for c in _FROM_EVENT),
    ).select(pl.all().gather(mine["row"]))
    return picked.with_columns(
        mine["rule.id"].alias("rule.id"),
        mine["rule.name"].alias("rule.name"),
        mine["row"].alias("row"),
        pl.col("event.original").str.slice(0, RAW_LIMIT),
        pl.lit(index, pl.Int32).alias(REF),
    )


def from_firings(
    spec: CorrelationSpec, index: int, inner: CorrelationSpec, firings: pl.DataFrame
) -> pl.DataFrame:
    """Return the observations of a chained correlation's firings in this batch."""
    if firings.is_empty():
        return pl.DataFrame(schema=schema(spec))
    reference = spec.references[index]
    inner_keys = dict(zip(inner.group_by, group_columns(inner), strict=False))

    def group(name: str) -> pl.Expr:
        wanted = spec.group_field(name, reference)
        if wanted in inner_keys:
            return pl.col(inner_keys[wanted])
        if wanted in {"organization.id", "host.ip"}:
            return pl.col(wanted)
        return pl.lit(None, pl.String())

    groups = [
        group(g).alias(k) for g, k in zip(spec.group_by, group_columns(spec), strict=False)
    ] or [pl.lit("", pl.String()).alias("_gall")]
    value = pl.col("correlation.value").cast(value_dtype(spec))
    summary = pl.format(
        "{}: {} {} over {} observation(s)",
        pl.lit(inner.title),
        pl.lit(inner.type),
        pl.col("correlation.value"),
        pl.col("correlation.events"),
    )
    return firings.select(
        pl.col(TS),
        *groups,
        value.alias(VALUE),
        pl.col("rule.id"),
        pl.col("rule.name"),
        pl.lit(None, pl.UInt32).alias("row"),
        *(
            (pl.col(c) if c in {"organization.id", "host.ip"} else pl.lit(None, t)).alias(c)
            for c, t in SUMMARY_SCHEMA.items()
            if c in _FROM_EVENT and c != "event.original"
        ),
        summary.alias("event.original"),
        pl.lit(index, pl.Int32).alias(REF),
    )


def finish(
    spec: CorrelationSpec, parts: list[pl.DataFrame], first_seq: int, batch: int
) -> pl.DataFrame:
    """Put one batch's observations in schema order, numbered from ``first_seq``."""
    target = schema(spec)
    frames = [
        p.with_columns(pl.lit(None, pl.Int64).alias(SEQ)).select(
            (pl.col(c).cast(t) if c in p.columns else pl.lit(None, t)).alias(c)
            for c, t in target.items()
        )
        for p in parts
    ]
    frame = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=target)
    return frame.with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_seq).alias(SEQ),
        pl.lit(batch, pl.Int64).alias(BATCH),
        pl.lit(None, pl.Boolean).alias(MET),
        pl.lit(True).alias(NEW),
    )
