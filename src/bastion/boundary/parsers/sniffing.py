"""Tell whether sample lines are in a format: the building blocks of each parser's sniffer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence


def mostly(lines: Sequence[str], accept: Callable[[str], bool], share: float = 0.8) -> bool:
    """Return true if at least ``share`` of the sample lines (and at least one) are accepted."""
    if not lines:
        return False
    hits = sum(1 for line in lines if accept(line))
    return hits >= max(1.0, share * len(lines))


def matcher(pattern: str) -> Callable[[str], bool]:
    """Return a predicate that tells whether a line matches ``pattern`` from its start."""
    compiled = re.compile(pattern)
    return lambda line: compiled.match(line) is not None


def sniffer(pattern: str, share: float = 0.5) -> Callable[[list[str]], bool]:
    """Return a sniffer accepting samples whose lines mostly contain ``pattern`` anywhere."""
    compiled = re.compile(pattern)
    return lambda lines: mostly(lines, lambda line: compiled.search(line) is not None, share)
