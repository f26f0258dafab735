"""Sigma's case-insensitive comparison, Unicode-aware and still columnar.

The specification says string values compare case-insensitively; Bastion folds case
fully, as Python's ``str.casefold`` does (``Ü`` ≡ ``ü``, ``ß`` ≡ ``ss``, ``ſ`` ≡ ``s``).

A rule's needles are folded once, when the rule compiles. A batch's text is folded
only where it needs it: an all-ASCII value is left as it is, because for ASCII text
full folding *is* ASCII folding, which the Aho-Corasick passes and regexes already do
(``ascii_case_insensitive``, ``(?i-u:…)``). The rare value holding a non-ASCII
character is folded in Polars — lower case, then the characters whose case fold
differs from their lower case — so a batch of ASCII logs pays one length comparison
per value, and nothing else.
"""

from __future__ import annotations

import sys
from functools import cache

import polars as pl

FOLDED_PREFIX = "_fold:"


def fold(text: str) -> str:
    """Fold a rule's literal as the batch's text is folded."""
    return text.casefold()


def folded_name(name: str) -> str:
    """Name the engine's folded copy of a text field."""
    return f"{FOLDED_PREFIX}{name}"


@cache
def _beyond_lower() -> tuple[list[str], list[str]]:
    """The lower-case characters whose case fold is something else (µ → μ, ß → ss, ς → σ …)."""
    found = [
        (c, c.casefold())
        for c in map(chr, range(0x80, sys.maxunicode + 1))
        if not 0xD800 <= ord(c) < 0xE000 and c == c.lower() and c.casefold() != c
    ]
    return [c for c, _ in found], [f for _, f in found]


def fold_series(values: pl.Series) -> pl.Series:
    """Fold the values that hold a non-ASCII character; return ASCII values unchanged."""
    text = values.cast(pl.String)
    wide = text.str.len_bytes() != text.str.len_chars()
    if not wide.any():
        return text
    rows = wide.arg_true()
    sources, targets = _beyond_lower()
    folded = text.gather(rows).str.to_lowercase().str.replace_many(sources, targets)
    return text.scatter(rows, folded)
