"""The rule set: evaluate every compiled rule over a batch, columnar, and return its hits.

A batch is split by ``event.dataset`` and each part meets only the rules routed to
its dataset, so a DNS batch never meets a proxy rule. Within a part, the rules
whose predicates need literal needles (almost all Sigma rules) share one
Aho-Corasick pass per field over all of their needles: only the rows that contain
some needle are evaluated against those rules, the others cannot match any.

Fields a rule tests that a dataset never fills are reported once per (rule, dataset,
field) in ``RuleSet.empty_fields`` (and the log), never per event.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl
from sigma.correlations import SigmaCorrelationRule

from bastion.core.net import ip_keys
from bastion.detect.folding import fold_series, folded_name
from bastion.detect.logsources import COLUMNS, DATASET_FIELD, DERIVED, DERIVED_SOURCES
from bastion.detect.rules import Rule, RuleReport
from bastion.detect.values import ascii_lower, ip_key_columns

log = logging.getLogger(__name__)

ROW = "row"
HIT_SCHEMA: dict[str, pl.DataType] = {
    "rule.id": pl.String(),
    "rule.name": pl.String(),
    "rule.title": pl.String(),
    "rule.level": pl.String(),
    ROW: pl.UInt32(),
}


def empty_hits() -> pl.DataFrame:
    """Return a hits frame with no rows."""
    return pl.DataFrame(schema=HIT_SCHEMA)


@dataclass
class _Route:
    """The rules of one dataset, split by whether the shared needle pass can prefilter them."""

    anchored: list[int] = field(default_factory=list)
    unanchored: list[int] = field(default_factory=list)
    needles: dict[str, list[str]] = field(default_factory=dict)  # field → needles, deduplicated
    owners: pl.DataFrame | None = None  # (field, needle folded, rule): which rule needs which
    columns: set[str] = field(default_factory=set)
    ip_fields: set[str] = field(default_factory=set)
    derived: set[str] = field(default_factory=set)
    folded: set[str] = field(default_factory=set)  # text fields read case folded


@dataclass
class RuleSet:
    """Compiled Sigma rules ready to evaluate; correlations are kept for the correlation engine."""

    rules: list[Rule]
    correlations: list[SigmaCorrelationRule] = field(default_factory=list)
    reports: list[RuleReport] = field(default_factory=list)
    empty_fields: set[tuple[str, str, str]] = field(default_factory=set)
    _routes: dict[str | None, _Route] = field(default_factory=dict, init=False, repr=False)
    _meta: pl.DataFrame = field(init=False, repr=False)
    _all_columns: set[str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._meta = pl.DataFrame(
            {
                "_rule": pl.Series(range(len(self.rules)), dtype=pl.UInt32),
                "rule.id": [r.id for r in self.rules],
                "rule.name": [r.name for r in self.rules],
                "rule.title": [r.title for r in self.rules],
                "rule.level": [r.level for r in self.rules],
            },
            schema={"_rule": pl.UInt32(), **{k: v for k, v in HIT_SCHEMA.items() if k != ROW}},
        )

    def _columns(self) -> set[str]:
        if self._all_columns is None:
            needed: set[str] = set()
            for rule in self.rules:
                needs = rule.detection.needs
                needed |= needs.columns | {DERIVED_SOURCES[d] for d in needs.derived}
                needed |= {name for name, _ in rule.detection.anchors or ()}
            self._all_columns = needed
        return self._all_columns

    def get(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def _route(self, dataset: str | None) -> _Route:
        route = self._routes.get(dataset)
        if route is not None:
            return route
        route = _Route()
        needles: dict[str, dict[str, None]] = defaultdict(dict)
        for i, rule in enumerate(self.rules):
            if (rule.datasets and dataset not in rule.datasets) or rule.detection.never:
                continue
            detection = rule.detection
            route.columns |= detection.needs.columns
            route.ip_fields |= detection.needs.ip_fields
            route.derived |= detection.needs.derived
            route.folded |= detection.needs.folded
            if detection.anchors is None:
                route.unanchored.append(i)
                continue
            route.anchored.append(i)
            for name, needle in detection.anchors:
                needles[name][needle] = None
        route.needles = {name: list(values) for name, values in needles.items()}
        owners = [
            (name, needle, i)
            for i in route.anchored
            for name, needle in self.rules[i].detection.anchors or ()
        ]
        route.owners = pl.DataFrame(
            owners,
            schema={"_field": pl.String(), "_needle": pl.String(), "_rule": pl.UInt32()},
            orient="row",
        ).unique()
        route.columns |= set(route.needles)
        route.folded |= set(route.needles)
        route.columns |= {DERIVED_SOURCES[name] for name in route.derived}
        self._routes[dataset] = route
        return route

    def evaluate(self, events: pl.DataFrame) -> pl.DataFrame:
        """Return one row per (rule, matching event): rule id, name, title, level and row index."""
        if events.height == 0 or not self.rules:
            return empty_hits()
        if DATASET_FIELD not in events.columns:
            events = events.with_columns(pl.lit(None, pl.String).alias(DATASET_FIELD))
        # Carry only the columns some rule reads: partitioning copies what it carries.
        wanted = {DATASET_FIELD} | self._columns()
        indexed = events.select([c for c in events.columns if c in wanted]).with_row_index(ROW)
        found: list[pl.DataFrame] = []
        datasets = indexed.get_column(DATASET_FIELD).unique().to_list()
        parts: Iterable[tuple[str | None, pl.DataFrame]]
        if len(datasets) == 1:
            parts = [(datasets[0], indexed)]
        else:
            parts = (
                (key[0], part)
                for key, part in indexed.partition_by(DATASET_FIELD, as_dict=True).items()
            )
        for dataset, part in parts:
            route = self._route(dataset)
            if route.anchored or route.unanchored:
                found.extend(self._evaluate_part(dataset, part, route))
        if not found:
            return empty_hits()
        hits = pl.concat(found)
        return (
            hits.join(self._meta, on="_rule", how="left")
            .sort(ROW, "_rule")
            .select(list(HIT_SCHEMA))
        )

    def prepared(self, events: pl.DataFrame, rule: Rule) -> pl.DataFrame:
        """Return ``events`` (with ``row``) as ``rule``'s predicates read them: derived columns too."""
        needs = rule.detection.needs
        route = _Route(
            columns=set(needs.columns) | {DERIVED_SOURCES[d] for d in needs.derived},
            ip_fields=set(needs.ip_fields),
            derived=set(needs.derived),
            folded=set(needs.folded),
        )
        return self._prepare(None, events.with_row_index(ROW), route)

    def _prepare(self, dataset: str | None, part: pl.DataFrame, route: _Route) -> pl.DataFrame:
        keep = [ROW, *sorted(c for c in route.columns if c in part.columns and c not in DERIVED)]
        frame = part.select(keep)
        missing = [
            pl.lit(None, COLUMNS[c]).alias(c)
            for c in sorted(route.columns)
            if c not in frame.columns and c not in DERIVED
        ]
        if missing:
            frame = frame.with_columns(missing)
        if route.derived:
            frame = frame.with_columns(DERIVED[name].alias(name) for name in sorted(route.derived))
        if route.folded:
            frame = frame.with_columns(
                fold_series(frame.get_column(name)).alias(folded_name(name))
                for name in sorted(route.folded)
            )
        for name in sorted(route.ip_fields):
            keys = ip_keys(frame.get_column(name))
            v4, v6 = ip_key_columns(name)
            frame = frame.with_columns(keys.v4.alias(v4), keys.v6.alias(v6))
        self._note_empty(dataset, frame, route)
        return frame

    def _note_empty(self, dataset: str | None, frame: pl.DataFrame, route: _Route) -> None:
        empty = {c for c in route.columns if frame.get_column(c).null_count() == frame.height}
        if not empty:
            return
        for i in [*route.anchored, *route.unanchored]:
            rule = self.rules[i]
            for name in sorted(empty & rule.detection.needs.columns):
                key = (rule.id, str(dataset), name)
                if key not in self.empty_fields:
                    self.empty_fields.add(key)
                    log.info(
                        "rule %s (%s): field %s is empty in dataset %s; its tests there never match",
                        rule.id,
                        rule.title,
                        name,
                        dataset,
                    )

    def _evaluate_part(
        self, dataset: str | None, part: pl.DataFrame, route: _Route
    ) -> list[pl.DataFrame]:
        frame = self._prepare(dataset, part, route)
        found: list[pl.DataFrame] = []
        if route.unanchored:
            found.append(self._hits(frame, route.unanchored))
        # Anchored rules with no needle at all (every test unknown) can never be true.
        if route.anchored and route.needles and route.owners is not None:
            found.extend(self._anchored_hits(frame, route, route.owners))
        return found

    def _anchored_hits(
        self, frame: pl.DataFrame, route: _Route, owners: pl.DataFrame
    ) -> list[pl.DataFrame]:
        """Find every needle in one Aho-Corasick pass per field; run each rule on its rows only.

        A row is a candidate of a rule when its folded text holds one of that rule's
        (folded) needles; the needles found, ASCII folded, are joined to the rules that
        need them, so a needle that is everywhere costs only the rules that use it.
        """
        positions = frame.with_row_index("_pos")
        found = []
        for name, needles in route.needles.items():
            found.append(
                positions.select(
                    pl.col("_pos"),
                    pl.lit(name).alias("_field"),
                    pl.col(folded_name(name))
                    .str.extract_many(needles, ascii_case_insensitive=True, overlapping=True)
                    .alias("_needle"),
                )
                .filter(pl.col("_needle").list.len() > 0)
                .explode("_needle", empty_as_null=False)
            )
        pairs = (
            pl.concat(found)
            .with_columns(ascii_lower(pl.col("_needle")))
            .join(owners, on=["_field", "_needle"], how="inner")
            .select("_rule", "_pos")
            .unique()
        )
        if pairs.height == 0:
            return []
        out = []
        for (rule,), part in pairs.partition_by("_rule", as_dict=True).items():
            rows = frame[part.get_column("_pos").sort()]
            out.append(self._hits(rows, [int(rule)]))
        return out

    def _hits(self, frame: pl.DataFrame, rules: list[int]) -> pl.DataFrame:
        verdicts = (
            frame.lazy()
            .select(
                pl.col(ROW),
                *(self.rules[i].detection.predicate.alias(str(i)) for i in rules),
            )
            .collect()
        )
        rows = verdicts.get_column(ROW)
        found = [
            pl.DataFrame(
                {
                    "_rule": pl.repeat(i, n, dtype=pl.UInt32, eager=True),
                    ROW: rows.filter(mask),
                }
            )
            for i in rules
            if (n := int((mask := verdicts.get_column(str(i))).sum()))
        ]
        if not found:
            return pl.DataFrame(schema={"_rule": pl.UInt32(), ROW: pl.UInt32()})
        return pl.concat(found)
