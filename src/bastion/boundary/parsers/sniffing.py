"""Tell whether sample lines are in a format: the building blocks of each parser's sniffer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any


def mostly(lines: Sequence[str], accept: Callable[[str], bool], share: float = 0.8) -> bool:
    """Return true if at least ``share`` of the sample lines (and at least one) are accepted."""
    if not lines:
        return False
    hits = sum(1 for line in lines if accept(line))
    return hits >= max(1.0, share * len(lines))


def sniffer(pattern: str, share: float = 0.5) -> Callable[[list[str]], bool]:
    """Return a sniffer accepting samples whose lines mostly contain ``pattern`` anywhere.

    A pattern that starts with ``^`` must match from the line's start.
    """
    compiled = re.compile(pattern)
    return lambda lines: mostly(lines, lambda line: compiled.search(line) is not None, share)


def json_sniffer(accept: Callable[[dict[str, Any]], bool]) -> Callable[[list[str]], bool]:
    """Return a sniffer accepting samples whose lines are mostly JSON objects ``accept`` takes."""

    def accept_line(line: str) -> bool:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            return False
        return isinstance(record, dict) and accept(record)

    return lambda lines: mostly(lines, accept_line)
