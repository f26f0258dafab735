"""The compiled match index: every active indicator, ready to be matched against event batches.

``MatchIndex.build`` merges the listings of one indicator by several sources into
one entry (id ``type:value``: the highest severity and confidence, ``block`` if any
source says so, all sources and threat names kept) and compiles the entries into
lookup tables per kind:

- IPs and CIDRs → sorted non-overlapping address segments (binary search), against
  ``source.ip`` and ``destination.ip``; every covering CIDR hits, not only the narrowest;
- domains → a hash-sorted table probed with each event domain and its parents, against
  ``url.domain``, ``dns.question.name`` and ``tls.server.name``;
- URLs → exact normalised ``url.full``; URL patterns → one Aho-Corasick automaton;
- JA3/JA4 and file hashes → exact values (the hash fields that the events carry).

``match`` looks addresses up by their integer keys (parsed once per batch and shared
with attribution), and each *distinct* value of the other event columns once, then
finds the rows holding the values that hit. E-mail indicators are kept but no event field
carries an address yet, so they match nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl

from bastion.core.net import CidrTable, IpKeys, column_keys
from bastion.core.types import Severity
from bastion.intel.indicator import Indicator, IndicatorType
from bastion.intel.tables import DomainTable, PatternTable, ValueTable
from bastion.intel.urls import normalise_urls

T = IndicatorType
IP_FIELDS = ("source.ip", "destination.ip")
DOMAIN_FIELDS = ("url.domain", "dns.question.name", "tls.server.name")
URL_FIELD = "url.full"

# Which event columns each indicator type is matched against.
FIELDS: dict[IndicatorType, tuple[str, ...]] = {
    T.IPV4: IP_FIELDS,
    T.IPV6: IP_FIELDS,
    T.CIDR: IP_FIELDS,
    T.DOMAIN: DOMAIN_FIELDS,
    T.URL: (URL_FIELD,),
    T.URL_PATTERN: (URL_FIELD,),
    T.JA3: ("tls.client.ja3",),
    T.JA4: ("tls.client.ja4",),
    T.SHA256: ("file.hash.sha256",),
    T.SHA1: ("file.hash.sha1",),  # not in the event schema yet: matched when present
    T.MD5: ("file.hash.md5",),
    T.EMAIL: (),
}

INDICATOR_SCHEMA: dict[str, pl.DataType] = {
    "type": pl.String(),
    "value": pl.String(),
    "source": pl.String(),
    "severity": pl.String(),
    "confidence": pl.Int32(),
    "action": pl.String(),
    "threat": pl.String(),
}

MATCH_SCHEMA: dict[str, pl.DataType] = {
    "_row": pl.Int64(),  # index of the matching event in the batch
    "indicator.id": pl.String(),  # type:value, the same whatever the source
    "indicator.type": pl.String(),
    "indicator.value": pl.String(),
    "indicator.source": pl.String(),  # every source listing it, comma-separated
    "indicator.sources": pl.List(pl.String()),  # the same, as a list
    "indicator.severity": pl.String(),  # the highest any source gives
    "indicator.confidence": pl.Int32(),  # the highest any source gives
    "indicator.action": pl.String(),  # block if any source says block, else alert
    "indicator.threat": pl.String(),  # threat names, "; "-separated
    "match.field": pl.String(),  # the event column that matched
}

_SEVERITIES = [s.value for s in Severity]
_RANKS = [s.rank for s in Severity]


def indicator_frame(indicators: Iterable[Indicator]) -> pl.DataFrame:
    """Return indicators as a frame in ``INDICATOR_SCHEMA`` (one row per source's listing)."""
    rows = [
        (i.type.value, i.value, i.source, i.severity.value, i.confidence, i.action.value, i.threat)
        for i in indicators
    ]
    return pl.DataFrame(rows, schema=INDICATOR_SCHEMA, orient="row")


def _merge(frame: pl.DataFrame) -> pl.DataFrame:
    """Return one compact entry per (type, value), merging what every source says about it."""
    threat = pl.col("threat").fill_null("")
    listings = frame.with_columns(
        pl.col("severity").replace_strict(_SEVERITIES, _RANKS, return_dtype=pl.UInt8).alias("rank")
    )
    # Most indicators come from one source: only the others need aggregating.
    shared = pl.len().over("type", "value") > 1
    single = listings.filter(~shared).select(
        "type",
        "value",
        pl.concat_list("source").alias("sources"),
        "rank",
        pl.col("confidence").cast(pl.Int32),
        (pl.col("action") == "block").alias("block"),
        threat.alias("threat"),
    )
    merged = (
        listings.filter(shared)
        .group_by("type", "value")
        .agg(
            sources=pl.col("source").unique().sort(),
            rank=pl.col("rank").max(),
            confidence=pl.col("confidence").max().cast(pl.Int32),
            block=(pl.col("action") == "block").any(),
            threat=threat.filter(threat != "").unique().sort().str.join("; "),
        )
    )
    return pl.concat([single, merged.select(single.columns)])


# What a hit reports about its indicator, computed from the compact entry.
_DETAILS = [
    pl.concat_str("type", pl.lit(":"), "value").alias("indicator.id"),
    pl.col("type").alias("indicator.type"),
    pl.col("value").alias("indicator.value"),
    pl.col("sources").list.join(", ").alias("indicator.source"),
    pl.col("sources").alias("indicator.sources"),
    pl.col("rank")
    .replace_strict(_RANKS, _SEVERITIES, return_dtype=pl.String)
    .alias("indicator.severity"),
    pl.col("confidence").alias("indicator.confidence"),
    pl.when("block").then(pl.lit("block")).otherwise(pl.lit("alert")).alias("indicator.action"),
    pl.col("threat").alias("indicator.threat"),
]


Lookup = Callable[[pl.Series], pl.DataFrame]


@dataclass(frozen=True)
class _Matcher:
    """One compiled table, the event fields it reads and how to normalise their values first."""

    fields: tuple[str, ...]
    prepare: Callable[[pl.Series], pl.Series]
    lookup: Lookup


def _lower(values: pl.Series) -> pl.Series:
    return values.str.strip_chars().str.to_lowercase()


def _url_or_text(values: pl.Series) -> pl.Series:
    # A relative URL (a web server's request line) is scanned as it is.
    return normalise_urls(values).fill_null(values)


@dataclass(frozen=True)
class _Addresses:
    """The IP and CIDR entries, flattened for lookup by address keys."""

    table: CidrTable
    entries: pl.Series  # entry number of each CIDR in ``table``

    def match(self, keys: IpKeys) -> pl.DataFrame:
        """Return (_row, entry) for every address and every entry covering it."""
        found = self.table.covering_keys(keys)
        return pl.DataFrame(
            {"_row": found["pos"].cast(pl.Int64), "entry": self.entries.gather(found["item"])}
        )


class _Compiled:
    """Entries compiled into lookup tables; immutable."""

    def __init__(
        self, entries: pl.DataFrame, addresses: _Addresses, matchers: list[_Matcher]
    ) -> None:
        self.entries = entries
        self.addresses = addresses
        self.matchers = matchers

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> _Compiled:
        entries = _merge(frame.cast(INDICATOR_SCHEMA))  # type: ignore[arg-type]
        numbered = entries.select("type", "value", entry=pl.int_range(pl.len(), dtype=pl.UInt32))

        def of(*types: IndicatorType) -> tuple[pl.Series, pl.Series]:
            chosen = numbered.filter(pl.col("type").is_in([t.value for t in types]))
            return chosen["value"], chosen["entry"]

        values, numbers = of(T.IPV4, T.IPV6, T.CIDR)
        addresses = _Addresses(CidrTable.build(values), numbers)
        matchers = [
            _Matcher(DOMAIN_FIELDS, _lower, DomainTable(*of(T.DOMAIN)).lookup),
            _Matcher((URL_FIELD,), _url_or_text, ValueTable(*of(T.URL)).lookup),
            _Matcher((URL_FIELD,), _url_or_text, PatternTable(*of(T.URL_PATTERN)).lookup),
        ]
        for kind in (T.JA3, T.JA4, T.SHA256, T.SHA1, T.MD5):
            matchers.append(_Matcher(FIELDS[kind], _lower, ValueTable(*of(kind)).lookup))
        return cls(entries, addresses, matchers)

    def ids(self) -> pl.Series:
        return self.entries.select(pl.concat_str("type", pl.lit(":"), "value")).to_series()

    def match(self, events: pl.DataFrame, keys: dict[str, IpKeys]) -> pl.DataFrame:
        parts = [
            self.addresses.match(keys[field]).with_columns(pl.lit(field).alias("match.field"))
            for field in IP_FIELDS
            if field in events.columns
        ]
        for field in dict.fromkeys(f for m in self.matchers for f in m.fields):
            # A column no event of this batch fills (a firewall's DNS fields) costs nothing:
            # even an empty lookup costs milliseconds of set-up per batch.
            if field in events.columns and events[field].null_count() < events.height:
                found = self._match_field(events[field].cast(pl.String))
                parts.append(found.with_columns(pl.lit(field).alias("match.field")))
        if not any(p.height for p in parts):
            return empty_matches()
        hits = pl.concat(parts).unique()
        details = self.entries.select(pl.all().gather(hits["entry"])).select(_DETAILS)
        return (
            hits.select("_row")
            .hstack(details)
            .with_columns(hits["match.field"])
            .select(list(MATCH_SCHEMA))
        )

    def _match_field(self, column: pl.Series) -> pl.DataFrame:
        """Return (_row, entry) for the rows of one event column that hit an indicator."""
        values = column.drop_nulls()
        distinct = values.gather(values.arg_unique())
        prepared: dict[Callable[[pl.Series], pl.Series], pl.Series] = {}
        found = []
        for matcher in self.matchers:
            if column.name in matcher.fields:
                if matcher.prepare not in prepared:
                    prepared[matcher.prepare] = matcher.prepare(distinct)
                found.append(matcher.lookup(prepared[matcher.prepare]))
        hits = pl.concat(found)
        if hits.is_empty():
            return pl.DataFrame(schema={"_row": pl.Int64, "entry": pl.UInt32})
        # Only rows holding a value that hit are looked at again, with their row number.
        listed = pl.DataFrame({"value": distinct.gather(hits["pos"]), "entry": hits["entry"]})
        rows = column.is_in(listed["value"].unique().implode()).arg_true()
        holding = pl.DataFrame({"_row": rows.cast(pl.Int64), "value": column.gather(rows)})
        return holding.join(listed, on="value").select("_row", "entry")


class MatchIndex:
    """Active indicators compiled for matching; immutable.

    ``with_changes`` returns a new index with some indicators changed, added or
    removed without recompiling the rest: the changes are compiled into a small
    *delta* layered over the unchanged *base*, whose entries for those indicators
    are hidden. A pipeline swaps its index for the new one between batches, so
    updates go live without a restart. When the delta grows large
    (``needs_rebuild``), build a fresh index from the store.
    """

    def __init__(
        self,
        base: _Compiled,
        delta: _Compiled | None = None,
        delta_frame: pl.DataFrame | None = None,
        hidden: pl.Series | None = None,
    ) -> None:
        self._base = base
        self._delta = delta
        self._delta_frame = delta_frame if delta_frame is not None else indicator_frame([])
        self._hidden = hidden if hidden is not None else pl.Series("id", [], dtype=pl.String)
        visible = base.ids()
        if len(self._hidden):
            visible = visible.filter(~visible.is_in(self._hidden.implode()))
        self._size = len(visible) + (0 if delta is None else delta.entries.height)

    @classmethod
    def build(cls, indicators: Iterable[Indicator]) -> MatchIndex:
        """Compile ``indicators`` (several sources may list the same one) into an index."""
        return cls.from_frame(indicator_frame(indicators))

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> MatchIndex:
        """Compile a frame in ``INDICATOR_SCHEMA`` whose values are already canonical."""
        return cls(_Compiled.from_frame(frame))

    def with_changes(self, listings: pl.DataFrame, removed: Iterable[str] = ()) -> MatchIndex:
        """Return this index with the indicators in ``listings`` replaced and ``removed`` dropped.

        ``listings`` (``INDICATOR_SCHEMA``) holds *every* active listing of each
        indicator it names (as ``index_changes`` gives them): what it says about an
        indicator replaces all the index knew of it. ``removed`` are ids
        (``type:value``) to drop.
        """
        listings = listings.select(list(INDICATOR_SCHEMA)).cast(INDICATOR_SCHEMA)  # type: ignore[arg-type]
        named = listings.select(pl.concat_str("type", pl.lit(":"), "value")).to_series()
        changed = pl.concat([named, pl.Series(list(removed), dtype=pl.String)]).unique()
        earlier = self._delta_frame.filter(
            ~pl.concat_str("type", pl.lit(":"), "value").is_in(changed.implode())
        )
        frame = pl.concat([earlier, listings])
        delta = _Compiled.from_frame(frame) if frame.height else None
        hidden = pl.concat([self._hidden, changed]).unique()
        return MatchIndex(self._base, delta, frame, hidden)

    @property
    def needs_rebuild(self) -> bool:
        """Tell whether the delta has grown past a quarter of the base (rebuilding pays then)."""
        return self._delta_frame.height > max(100_000, self._base.entries.height // 4)

    def __len__(self) -> int:
        """Return how many distinct indicators (type and value) the index holds."""
        return self._size

    def match(self, events: pl.DataFrame, keys: dict[str, IpKeys] | None = None) -> pl.DataFrame:
        """Return one row per (event, indicator, field) hit, in ``MATCH_SCHEMA``, by ``_row``.

        ``keys`` are the event addresses already parsed (``column_keys``), as the
        pipeline shares them between its stages; without them they are parsed here.
        """
        if keys is None:
            keys = column_keys(events, [f for f in IP_FIELDS if f in events.columns])
        found = self._base.match(events, keys)
        if len(self._hidden) and found.height:
            found = found.filter(~pl.col("indicator.id").is_in(self._hidden.implode()))
        if self._delta is not None:
            found = pl.concat([found, self._delta.match(events, keys)])
        return found.sort("_row", "indicator.id", "match.field")


def empty_matches() -> pl.DataFrame:
    """Return an empty frame in ``MATCH_SCHEMA``."""
    return pl.DataFrame(schema=MATCH_SCHEMA)
