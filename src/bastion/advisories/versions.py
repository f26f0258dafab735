"""Version semantics per ecosystem, and ranking versions so ranges compare as integers.

Comparing a version to a range is the costly step of exposure matching, so it is
done once per *distinct* version string: every distinct (ecosystem, version) is
parsed with its ecosystem's rules (``univers``), sorted, and given a dense integer
rank. A range check is then two integer comparisons in a Polars expression.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from functools import total_ordering
from typing import Any

import polars as pl
from univers import versions as uv

_NATURAL = re.compile(r"\d+|[a-z]+", re.IGNORECASE)


@total_ordering
class NaturalVersion:
    """A version of no particular scheme: numbers compare as numbers, words as text.

    ``2.10`` is after ``2.9``; a pre-release word (``2.0-beta``) sorts before the bare
    release. Used for CPE, CSV inventories and ``vers:generic`` ranges.
    """

    __slots__ = ("key", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        tokens = _NATURAL.findall(text)
        if not tokens:
            msg = f"{text!r} has no digits or letters"
            raise ValueError(msg)
        key: list[tuple[int, int, str]] = []
        for token in tokens:
            if token.isdigit():
                key.append((1, int(token), ""))
            else:
                key.append((0, 0, token.lower()))
        # A release (no trailing word) sorts after its pre-releases: pad with a high marker.
        key.append((0, 0, "~"))
        self.key = tuple(key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NaturalVersion) and self.key == other.key

    def __lt__(self, other: NaturalVersion) -> bool:
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)


_UNIVERS: dict[str, type[uv.Version]] = {
    "maven": uv.MavenVersion,
    "npm": uv.SemverVersion,
    "cargo": uv.SemverVersion,
    "pypi": uv.PypiVersion,
    "deb": uv.DebianVersion,
    "apk": uv.AlpineLinuxVersion,
    "rpm": uv.RpmVersion,
    "golang": uv.GolangVersion,
    "nuget": uv.NugetVersion,
    "gem": uv.RubygemsVersion,
    "composer": uv.ComposerVersion,
}


def version_parser(ecosystem: str) -> Callable[[str], Any]:
    """Return a function parsing a version of ``ecosystem`` into a comparable object.

    It raises ValueError for a version the ecosystem's rules reject.
    """
    cls = _UNIVERS.get(ecosystem)
    if cls is None:
        return NaturalVersion

    def parse(text: str) -> Any:
        if not text.strip():
            msg = "empty version"
            raise ValueError(msg)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return cls(text.strip())
        except Exception as exc:  # univers raises its own and assorted errors
            msg = f"{text!r} is not a {ecosystem} version: {exc}"
            raise ValueError(msg) from None

    return parse


def compare(ecosystem: str, left: str, right: str) -> int:
    """Return -1, 0 or 1 as ``left`` is before, equal to or after ``right``."""
    parse = version_parser(ecosystem)
    a, b = parse(left), parse(right)
    return -1 if a < b else (1 if b < a else 0)


def rank_versions(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Give each distinct (ecosystem, version) a dense rank within its ecosystem.

    Equal versions (``2.4`` and ``2.4.0`` in Maven) share a rank; versions the
    ecosystem's rules reject get none.
    """
    by_ecosystem: dict[str, set[str]] = {}
    for ecosystem, version in pairs:
        by_ecosystem.setdefault(ecosystem, set()).add(version)
    ranks: dict[tuple[str, str], int] = {}
    for ecosystem, texts in by_ecosystem.items():
        parse = version_parser(ecosystem)
        parsed: list[tuple[Any, str]] = []
        for text in texts:
            try:
                parsed.append((parse(text), text))
            except ValueError:
                continue
        parsed.sort(key=lambda item: item[0])
        rank, previous = -1, None
        for value, text in parsed:
            if previous is None or previous < value:
                rank += 1
                previous = value
            ranks[(ecosystem, text)] = rank
    return ranks


def rank_frame(frame: pl.DataFrame, ecosystem: str, version: str, out: str) -> pl.DataFrame:
    """Add column ``out``: the rank of each row's version among the frame's distinct versions."""
    distinct = frame.select(pl.col(ecosystem), pl.col(version)).unique().drop_nulls()
    ranks = rank_versions(zip(distinct[ecosystem], distinct[version], strict=True))
    table = pl.DataFrame(
        {
            ecosystem: [k[0] for k in ranks],
            version: [k[1] for k in ranks],
            out: list(ranks.values()),
        },
        schema={ecosystem: pl.String, version: pl.String, out: pl.Int64},
    )
    return frame.join(table, on=[ecosystem, version], how="left", nulls_equal=False)
