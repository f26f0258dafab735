"""Lookup tables the match index is compiled into: exact values, domain suffixes, URL patterns.

Each table is built once from the indicators and then answers, for a column of
distinct event values, which of its entries each value hits, as a frame of
(``pos`` = position of the value, ``entry`` = the indicator entry). None builds a
hash table per batch: exact values are sorted by a 64-bit hash and found by
binary search (then compared, so a hash collision can never fake a hit).
"""

from __future__ import annotations

import re

import ahocorasick
import polars as pl

HITS_SCHEMA: dict[str, pl.DataType] = {"pos": pl.UInt32(), "entry": pl.UInt32()}


def no_hits() -> pl.DataFrame:
    """Return an empty (pos, entry) frame."""
    return pl.DataFrame(schema=HITS_SCHEMA)


class ValueTable:
    """Strings sorted by hash, each with its entry; answers exact-equality lookups."""

    def __init__(self, values: pl.Series, entries: pl.Series) -> None:
        table = (
            pl.DataFrame({"value": values.cast(pl.String), "entry": entries.cast(pl.UInt32)})
            .with_columns(hash=pl.col("value").hash())
            .sort("hash", "value")
        )
        self._hashes = table["hash"]
        self._values = table["value"]
        self._entries = table["entry"]

    def __len__(self) -> int:
        return len(self._values)

    def lookup(self, probes: pl.Series) -> pl.DataFrame:
        """Return (pos, entry) for every probe equal to a value of the table (nulls never hit)."""
        if not len(self) or not len(probes):
            return no_hits()
        hashes = probes.hash()
        first = self._hashes.search_sorted(hashes, side="left")
        # Most probes miss: only those whose hash is present are looked at again.
        present = (first < len(self)) & (
            self._hashes.gather(first.clip(0, len(self) - 1)) == hashes
        )
        pos = present.arg_true()
        if not len(pos):
            return no_hits()
        lo = first.gather(pos)
        hi = self._hashes.search_sorted(hashes.gather(pos), side="right")
        # Usually one candidate per probe; a run of equal hashes is compared value by value.
        candidates = (
            pl.DataFrame({"pos": pos, "lo": lo, "hi": hi})
            .select("pos", at=pl.int_ranges("lo", "hi", dtype=pl.UInt32))
            .explode("at", empty_as_null=False)
        )
        at, pos = candidates["at"], candidates["pos"]
        same = self._values.gather(at) == probes.cast(pl.String).gather(pos)
        return pl.DataFrame({"pos": pos, "entry": self._entries.gather(at)}).filter(same)


def domain_suffixes(domains: pl.Series, depths: list[int]) -> pl.DataFrame:
    """Return (pos, suffix): each domain's parent domains with ``depths`` labels, itself included.

    ``a.b.evil.com`` with depths [2, 3] gives ``evil.com`` and ``b.evil.com``; only whole
    labels are cut, so ``notevil.com`` never yields ``evil.com``.
    """
    # One regex anchored at the end per depth: half the cost of splitting into label lists.
    names = (
        domains.cast(pl.String)
        .to_frame("domain")
        .select(
            pos=pl.int_range(pl.len(), dtype=pl.UInt32),
            domain=pl.col("domain").str.to_lowercase().str.strip_chars_end("."),
        )
    )
    parts = [
        names.select(
            "pos", suffix=pl.col("domain").str.extract(rf"((?:[^.]*\.){{{depth - 1}}}[^.]*)$", 1)
        ).filter(pl.col("suffix").is_not_null())
        for depth in depths
    ]
    return (
        pl.concat(parts) if parts else pl.DataFrame(schema={"pos": pl.UInt32, "suffix": pl.String})
    )


class DomainTable:
    """Listed domains; a domain hits itself and every subdomain of it."""

    def __init__(self, domains: pl.Series, entries: pl.Series) -> None:
        self._values = ValueTable(domains, entries)
        depths = domains.str.count_matches(".", literal=True).unique() + 1
        self._depths = sorted(int(d) for d in depths.drop_nulls())

    def __len__(self) -> int:
        return len(self._values)

    def lookup(self, probes: pl.Series) -> pl.DataFrame:
        """Return (pos, entry) for every probe that is a listed domain or beneath one."""
        if not len(self):
            return no_hits()
        suffixes = domain_suffixes(probes, self._depths)
        hits = self._values.lookup(suffixes["suffix"])
        return hits.select(pos=suffixes["pos"].gather(hits["pos"]), entry="entry")


def pattern_regex(pattern: str) -> str:
    """Return the regular expression a normalised URL pattern stands for (``*`` = any run)."""
    body = ".*".join(re.escape(piece) for piece in pattern.split("*"))
    return f"(?s)^{body}" if "://" in pattern else f"(?s){body}"


class PatternTable:
    """URL patterns in one Aho-Corasick automaton, keyed by each pattern's longest literal run."""

    def __init__(self, patterns: pl.Series, entries: pl.Series) -> None:
        self._patterns = patterns.cast(pl.String)
        self._entries = entries.cast(pl.UInt32)
        self._regex = pl.Series([pattern_regex(p) for p in self._patterns])
        # A plain substring pattern is its own key: an automaton hit needs no check.
        self._plain = pl.Series(["*" not in p and "://" not in p for p in self._patterns])
        keys: dict[str, list[int]] = {}
        for number, pattern in enumerate(self._patterns):
            keys.setdefault(max(pattern.split("*"), key=len), []).append(number)
        self._automaton = ahocorasick.Automaton()
        for key, numbers in keys.items():
            self._automaton.add_word(key, tuple(numbers))
        if keys:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self._patterns)

    def lookup(self, urls: pl.Series) -> pl.DataFrame:
        """Return (pos, entry) for every URL (compared lower-case) that a pattern matches."""
        if not len(self) or not len(urls):
            return no_hits()
        lowered = urls.cast(pl.String).str.to_lowercase().fill_null("")
        # One scan over all the URLs joined by newlines (which no key contains), then
        # each hit's end offset says which URL it fell in.
        text = "\n".join(lowered.to_list())
        starts = (lowered.str.len_chars() + 1).cum_sum() - (lowered.str.len_chars() + 1)
        ends: list[int] = []
        found: list[tuple[int, ...]] = []
        for end, numbers in self._automaton.iter(text):
            ends.append(end)
            found.append(numbers)
        if not ends:
            return no_hits()
        candidates = (
            pl.DataFrame(
                {
                    "pos": starts.search_sorted(pl.Series(ends, dtype=starts.dtype), side="right")
                    - 1,
                    "pattern": found,
                }
            )
            .explode("pattern", empty_as_null=False)
            .unique()
        )
        pattern = candidates["pattern"]
        checked = candidates.with_columns(
            url=lowered.gather(candidates["pos"]),
            regex=self._regex.gather(pattern),
            plain=self._plain.gather(pattern),
        ).filter(pl.col("plain") | pl.col("url").str.contains(pl.col("regex")))
        return checked.select(
            pl.col("pos").cast(pl.UInt32), entry=self._entries.gather(checked["pattern"])
        )
