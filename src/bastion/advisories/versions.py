"""Version semantics per ecosystem, and ranking versions so ranges compare as integers.

Comparing a version to a range is the costly step of exposure matching, so it is
done once per *distinct* version string: every distinct (ecosystem, version) is
parsed with its ecosystem's rules (``univers``), sorted, and given a dense integer
rank. A range check is then two integer comparisons in a Polars expression.
"""

from __future__ import annotations

import bisect
import re
import threading
import warnings
from collections.abc import Callable, Iterable
from functools import total_ordering
from typing import Any

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


class VersionOrder:
    """The order of every version of one ecosystem seen so far, as float sort keys.

    Comparing two versions with ``univers`` costs tens of microseconds, and the order of
    two version strings never changes, so each distinct string is placed once: a batch
    of many new versions is sorted in with the known ones, a few are inserted by binary
    search with a key between their neighbours'. Equal versions share a key.
    """

    def __init__(self, ecosystem: str) -> None:
        self.parse = version_parser(ecosystem)
        self.keys: dict[str, float | None] = {}
        self._values: list[Any] = []  # parsed versions, sorted, one per distinct key
        self._sort_keys: list[float] = []
        self._lock = threading.Lock()

    def keys_of(self, texts: Iterable[str]) -> dict[str, float | None]:
        wanted = set(texts)
        with self._lock:
            new = [t for t in wanted if t not in self.keys]
            if new:
                self._place(new)
            return {t: self.keys[t] for t in wanted}

    def _place(self, texts: list[str]) -> None:
        parsed: list[tuple[Any, str]] = []
        for text in texts:
            try:
                parsed.append((self.parse(text), text))
            except ValueError:
                self.keys[text] = None
        if not parsed:
            return
        if len(parsed) * 8 > len(self._values) or len(parsed) > 64:
            self._rebuild(parsed)
            return
        for value, text in sorted(parsed, key=lambda item: item[0]):
            at = bisect.bisect_left(self._values, value)
            if at < len(self._values) and not value < self._values[at]:
                self.keys[text] = self._sort_keys[at]  # equal to a known version
                continue
            low = (
                self._sort_keys[at - 1]
                if at > 0
                else self._sort_keys[0] - 2.0
                if self._sort_keys
                else 0.0
            )
            high = self._sort_keys[at] if at < len(self._sort_keys) else low + 2.0
            key = (low + high) / 2
            if not low < key < high:  # floats ran out between neighbours: renumber
                self._rebuild([(value, text)])
                continue
            self._values.insert(at, value)
            self._sort_keys.insert(at, key)
            self.keys[text] = key

    def _rebuild(self, parsed: list[tuple[Any, str]]) -> None:
        known = [(self.parse(t), t) for t, k in self.keys.items() if k is not None]
        every = sorted(known + parsed, key=lambda item: item[0])
        self._values, self._sort_keys = [], []
        previous = None
        for value, text in every:
            if previous is None or previous < value:
                self._values.append(value)
                self._sort_keys.append(float(len(self._sort_keys)))
                previous = value
            self.keys[text] = self._sort_keys[-1]


_ORDERS: dict[str, VersionOrder] = {}


def order_of(ecosystem: str) -> VersionOrder:
    """Return the process-wide version order of ``ecosystem``."""
    found = _ORDERS.get(ecosystem)
    if found is None:
        found = _ORDERS.setdefault(ecosystem, VersionOrder(ecosystem))
    return found


def rank_versions(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Give each distinct (ecosystem, version) a sort key within its ecosystem.

    Equal versions (``2.4`` and ``2.4.0`` in Maven) share a key; versions the
    ecosystem's rules reject get none. Keys are only compared with keys of the same
    ecosystem.
    """
    by_ecosystem: dict[str, set[str]] = {}
    for ecosystem, version in pairs:
        by_ecosystem.setdefault(ecosystem, set()).add(version)
    ranks: dict[tuple[str, str], float] = {}
    for ecosystem, texts in by_ecosystem.items():
        for text, key in order_of(ecosystem).keys_of(texts).items():
            if key is not None:
                ranks[(ecosystem, text)] = key
    return ranks
