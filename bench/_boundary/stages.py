"""Time the pipeline's stages from outside: wrap the names ``Pipeline`` calls, per process.

The worker swaps each stage function the pipeline module looks up (parse, attribute,
enrich, verdict, the sinks, the SQL steps) for a wrapper that adds its wall time to a
counter, so the real ``Pipeline`` code runs unchanged and the stage split costs one
``perf_counter`` pair per batch and stage. A name the pipeline no longer has is left
out (and reported), so the benchmark keeps working while the pipeline changes.
Nothing here is used outside the benchmark.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import wraps
from typing import Any

import polars as pl

from bastion.boundary import pipeline, stages
from bastion.boundary.parsers import Parser
from bastion.core import net
from bastion.intel import MatchIndex

SECONDS: dict[str, float] = defaultdict(float)

# The names the pipeline and stages modules call, and the stage each is counted under.
PIPELINE_STAGES = {
    "split_lines": "split",
    "transform": "transform",
    "conform": "conform",
    "attribute": "attribute",
    "enrich": "enrich",
    "indicator_candidates": "verdict",
    "behaviour": "behaviour",
    "unattributed_matches": "verdict",
    "write_batch": "archive",
    "write_rejects": "deadletter",
    "batch_done": "sql",
    "mark_batch": "sql",
    "record_alerts": "sql alerts",
    "save_checkpoint": "sql",
}
TRANSFORM_PARTS = ("parse", "conform", "attribute", "enrich", "verdict", "behaviour")
COMMIT_PARTS = ("archive", "deadletter", "sql", "sql alerts")


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``function`` counting its wall time under ``name``."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SECONDS[name] += time.perf_counter() - started

    return wrapper


def timed_iterator(name: str, items: Iterator[Any]) -> Iterator[Any]:
    """Yield from ``items``, counting the time spent producing each item under ``name``."""
    while True:
        started = time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            return
        finally:
            SECONDS[name] += time.perf_counter() - started
        yield item


def install() -> list[str]:
    """Wrap the pipeline's stage functions (once per process); return the stages found."""
    found = []
    for module in (pipeline, stages):
        for attribute, stage in PIPELINE_STAGES.items():
            if hasattr(module, attribute):
                setattr(module, attribute, timed(stage, getattr(module, attribute)))
                found.append(stage)
    get_parser = pipeline.get_parser

    def timed_get_parser(name: str) -> Parser:
        parser = get_parser(name)
        chunk = parser.read_chunk
        return replace(
            parser,
            parse=timed("parse", parser.parse),
            read_chunk=None if chunk is None else timed("parse", chunk),
        )

    pipeline.get_parser = timed_get_parser
    read_chunks = pipeline.read_chunks
    pipeline.read_chunks = lambda *a, **k: timed_iterator("read", read_chunks(*a, **k))
    # A segment's commit (archive, dead letters, one SQL transaction): private, so optional.
    commit = getattr(pipeline.Pipeline, "_commit", None)
    if commit is not None:
        pipeline.Pipeline._commit = timed("commit", commit)  # type: ignore[method-assign]
        found.append("commit")
    # Address parsing runs in attribute and in enrich alike: worth a line of its own.
    net.ip_keys = timed("ip keys (in attribute + enrich)", net.ip_keys)
    match_field = getattr(MatchIndex, "_match_field", None)
    if match_field is not None:
        # Which indicator lookups cost what: one line per event column matched.
        def per_field(self: MatchIndex, column: pl.Series) -> pl.DataFrame:
            return timed(f"enrich {column.name}", match_field)(self, column)  # type: ignore[no-any-return]

        MatchIndex._match_field = per_field  # type: ignore[method-assign]
    return sorted(set(found))


def breakdown(wall: float) -> dict[str, float]:
    """Return seconds per exclusive stage; together they add up to ``wall``."""
    s = dict(SECONDS)
    out = {stage: s.get(stage, 0.0) for stage in ("read", "split", *TRANSFORM_PARTS)}
    out["transform other"] = max(s.get("transform", 0.0) - sum(out[k] for k in TRANSFORM_PARTS), 0)
    out |= {stage: s.get(stage, 0.0) for stage in COMMIT_PARTS}
    sinks = sum(out[k] for k in COMMIT_PARTS)
    out["commit other (concat, SQL commit)"] = max(s.get("commit", 0.0) - sinks, 0.0)
    out["compact"] = s.get("compact", 0.0)
    out["other"] = max(wall - sum(out.values()), 0.0)
    return out


def details() -> dict[str, float]:
    """Return the finer counters that overlap the stages (address parsing, per-field matching)."""
    return {k: v for k, v in SECONDS.items() if k.startswith(("ip keys", "enrich "))}
