"""One Sigma value on one field → one Polars predicate.

Sigma compares strings case-insensitively; Bastion folds ASCII letters only (as
SQLite's ``COLLATE NOCASE``/``LIKE`` and Aho-Corasick's ``ascii_case_insensitive`` do),
so a value and the prefilter that looks for it always agree. ``cased`` compares exactly.
Every predicate is null-free: an absent field matches no value, so ``not`` of a value
test on an absent field is true.

Besides the expression, each predicate says which literal needles a row *must* contain
for it to be true (its *anchors*): the engine searches all rules' needles on a field in
one Aho-Corasick pass and evaluates rules only on rows that contain one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network

import polars as pl
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
    TimestampPart,
)

from bastion.core.net import V4_KEY, V6_KEY
from bastion.detect.logsources import COLUMNS, DERIVED

# A needle: (field, literal) — the row's field must contain the literal, ASCII case folded.
Anchor = tuple[str, str]
_UPPER = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
_LOWER = [c.lower() for c in _UPPER]
_NUMERIC = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


class Unsupported(Exception):
    """A construct Bastion cannot evaluate; the message says which and why."""


@dataclass(frozen=True)
class Pred:
    """A null-free Boolean predicate and the needles any true row must contain (None: no need).

    ``text`` describes a plain text test so that ``any_of`` can merge the alternatives on
    one field into one pass: ``(field, "ac", needle, cased)`` for a substring, ``(field,
    "re", pattern, cased)`` for an anchored or wildcard pattern.
    """

    expr: pl.Expr
    anchors: frozenset[Anchor] | None = None
    text: tuple[str, str, str, bool] | None = None
    column: pl.Expr | None = None
    unknown: bool = False  # always null: a test on a field Bastion's schema lacks
    never: bool = False  # can never be true (so the rule need not run)


def ip_key_columns(name: str) -> tuple[str, str]:
    """Name the engine's IPv4 and IPv6 key columns of an address field."""
    return f"_ip4:{name}", f"_ip6:{name}"


@dataclass
class Needs:
    """What a rule asks of a batch beyond its columns: derived columns and IP keys."""

    derived: set[str] = field(default_factory=set)
    ip_fields: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)  # fields no Bastion column carries
    columns: set[str] = field(default_factory=set)

    def column(self, name: str) -> tuple[pl.Expr, pl.DataType]:
        """Return the column a field names (``value_pred`` has checked that it exists)."""
        dtype = COLUMNS[name]
        if name in DERIVED:
            self.derived.add(name)
        self.columns.add(name)
        return pl.col(name), dtype


def ascii_lower(expr: pl.Expr) -> pl.Expr:
    """Fold ASCII letters to lower case and leave every other character as it is."""
    return expr.str.replace_many(_UPPER, _LOWER)


def _regex_literal(text: str, *, cased: bool) -> str:
    """A regex matching ``text`` literally; ASCII letters in either case unless ``cased``.

    ASCII punctuation is written as ``\\x{..}`` (safe in any regex dialect), other
    characters as themselves; ``(?i-u:…)`` folds ASCII letters only, never Unicode.
    """
    escaped = "".join(c if c.isalnum() or not c.isascii() else f"\\x{{{ord(c):02X}}}" for c in text)
    return escaped if cased else f"(?i-u:{escaped})"


def _parts(value: SigmaString) -> list[str | SpecialChars]:
    parts: list[str | SpecialChars] = []
    for part in value.s:
        if isinstance(part, Placeholder):
            msg = f"placeholder %{part.name}% has no values (set it in the rules' placeholders)"
            raise Unsupported(msg)
        parts.append(part)
    return parts


def _null_free(expr: pl.Expr) -> pl.Expr:
    return expr.fill_null(value=False)


def string_pred(column: pl.Expr, name: str, value: SigmaString) -> Pred:
    """Match a Sigma string (with * and ? wildcards) against a text column."""
    cased = isinstance(value, SigmaCasedString)
    parts = _parts(value)
    literals = [p for p in parts if isinstance(p, str)]
    needle = max(literals, key=len, default="")
    anchors = frozenset({(name, needle)}) if needle else None
    multi = SpecialChars.WILDCARD_MULTI
    if SpecialChars.WILDCARD_SINGLE not in parts:
        inner = parts[1:] if parts[:1] == [multi] else parts
        lead = len(inner) < len(parts)
        trail = inner[-1:] == [multi]
        inner = inner[:-1] if trail else inner
        if all(isinstance(p, str) for p in inner) and len(inner) <= 1:
            text = inner[0] if inner else ""
            assert isinstance(text, str)
            if lead and trail and not text:
                return Pred(column.is_not_null())
            if lead and trail:
                test = (name, "ac", text, cased)
                return Pred(_text_expr(column, [test]), anchors, test, column)
            pattern = ("" if lead else "^") + _regex_literal(text, cased=cased)
            test = (name, "re", pattern + ("" if trail else "$"), cased)
            return Pred(_text_expr(column, [test]), anchors, test, column)
    pattern = "".join(
        ".*"
        if p is multi
        else "."
        if isinstance(p, SpecialChars)
        else _regex_literal(p, cased=cased)
        for p in parts
    )
    test = (name, "re", f"(?s)^{pattern}$", cased)
    return Pred(_text_expr(column, [test]), anchors, test, column)


def _text_expr(column: pl.Expr, tests: list[tuple[str, str, str, bool]]) -> pl.Expr:
    """One pass for text tests of one kind on one column: Aho-Corasick or one regex."""
    kind, cased = tests[0][1], tests[0][3]
    if kind == "ac" and len(tests) > 1:
        needles = [t[2] for t in tests]
        return _null_free(column.str.contains_any(needles, ascii_case_insensitive=not cased))
    if kind == "ac":
        return _null_free(column.str.contains(_regex_literal(tests[0][2], cased=cased)))
    return _null_free(column.str.contains("|".join(f"(?:{t[2]})" for t in tests)))


def regex_pred(column: pl.Expr, value: SigmaRegularExpression) -> Pred:
    """Match a regular expression (Rust syntax) with its i/m/s flags anywhere in the text."""
    flags = "".join(
        letter
        for flag, letter in (
            (SigmaRegularExpressionFlag.IGNORECASE, "i"),
            (SigmaRegularExpressionFlag.MULTILINE, "m"),
            (SigmaRegularExpressionFlag.DOTALL, "s"),
        )
        if flag in value.flags
    )
    pattern = f"(?{flags}){value.regexp.original}" if flags else value.regexp.original
    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except pl.exceptions.ComputeError as exc:
        msg = f"regular expression {value.regexp.original!r} is not supported: {exc}"
        raise Unsupported(msg) from exc
    return Pred(_null_free(column.str.contains(pattern)))


def cidr_pred(name: str, value: SigmaCIDRExpression, needs: Needs) -> Pred:
    """Test an address field against a v4 or v6 network, on the engine's integer keys."""
    needs.column(name)
    needs.ip_fields.add(name)
    v4, v6 = ip_key_columns(name)
    network = value.network
    low, high = int(network.network_address), int(network.broadcast_address)
    if isinstance(network, IPv4Network):
        return Pred(_null_free(pl.col(v4).is_between(pl.lit(low, V4_KEY), pl.lit(high, V4_KEY))))
    assert isinstance(network, IPv6Network)
    return Pred(_null_free(pl.col(v6).is_between(pl.lit(low, V6_KEY), pl.lit(high, V6_KEY))))


_COMPARE = {
    CompareOperators.LT: lambda c, n: c < n,
    CompareOperators.LTE: lambda c, n: c <= n,
    CompareOperators.GT: lambda c, n: c > n,
    CompareOperators.GTE: lambda c, n: c >= n,
    CompareOperators.NEQ: lambda c, n: c != n,
}
_TIME_PARTS = {
    TimestampPart.MINUTE: lambda c: c.dt.minute(),
    TimestampPart.HOUR: lambda c: c.dt.hour(),
    TimestampPart.DAY: lambda c: c.dt.day(),
    TimestampPart.WEEK: lambda c: c.dt.week(),
    TimestampPart.MONTH: lambda c: c.dt.month(),
    TimestampPart.YEAR: lambda c: c.dt.year(),
}


def _number(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, _NUMERIC) or dtype in (pl.Float32, pl.Float64):
        return column.cast(pl.Float64)
    return column.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)


def value_pred(name: str, value: SigmaType, needs: Needs) -> Pred:
    """Compile one field/value pair of a detection item.

    A field Bastion's schema lacks makes the test unknown (null), never true: with
    Kleene logic the rule then matches only through its other branches, and ``not``
    of it stays unknown, so such a rule never fires on the field's absence alone.
    """
    if name not in COLUMNS or (
        isinstance(value, SigmaFieldReference) and value.field not in COLUMNS
    ):
        needs.missing.add(name if name not in COLUMNS else str(getattr(value, "field", name)))
        return Pred(pl.lit(None, pl.Boolean), frozenset(), unknown=True, never=True)
    if isinstance(value, SigmaExpansion):
        preds = [value_pred(name, v, needs) for v in value.values]
        return any_of(preds)
    if isinstance(value, SigmaNull):
        column, _ = needs.column(name)
        return Pred(column.is_null())
    if isinstance(value, SigmaExists):
        column, _ = needs.column(name)
        return Pred(column.is_not_null() if value.exists else column.is_null())
    if isinstance(value, SigmaCIDRExpression):
        return cidr_pred(name, value, needs)
    column, dtype = needs.column(name)
    if isinstance(value, SigmaString):
        if isinstance(dtype, _NUMERIC) and not value.contains_special():
            return _numeric_equal(column, dtype, value.to_plain())
        return string_pred(column.cast(pl.String), name, value)
    if isinstance(value, SigmaRegularExpression):
        return regex_pred(column.cast(pl.String), value)
    if isinstance(value, SigmaTimestampPart):
        if not isinstance(dtype, pl.Datetime):
            msg = f"field {name!r} is not a timestamp, so it has no {value.timestamp_part.name}"
            raise Unsupported(msg)
        part = _TIME_PARTS[value.timestamp_part](column)
        return Pred(_null_free(part == value.number))
    if isinstance(value, SigmaBool):
        if dtype == pl.Boolean:
            return Pred(_null_free(column == bool(value)))
        text = "true" if value else "false"
        return Pred(_null_free(column.cast(pl.String).str.contains(f"(?i-u)^{text}$")))
    if isinstance(value, SigmaCompareExpression):
        number = value.number.number
        return Pred(_null_free(_COMPARE[value.op](_number(column, dtype), number)))
    if isinstance(value, SigmaNumber):
        return _numeric_equal(column, dtype, str(value.number))
    if isinstance(value, SigmaFieldReference):
        return fieldref_pred(column, value, needs)
    msg = f"value type {type(value).__name__} is not supported"
    raise Unsupported(msg)


def _numeric_equal(column: pl.Expr, dtype: pl.DataType, text: str) -> Pred:
    if isinstance(dtype, _NUMERIC) or dtype in (pl.Float32, pl.Float64):
        try:
            number = float(text)
        except ValueError:
            return Pred(pl.lit(value=False))
        return Pred(_null_free(column.cast(pl.Float64) == number))
    return Pred(_null_free(column.cast(pl.String) == text), None)


def fieldref_pred(column: pl.Expr, value: SigmaFieldReference, needs: Needs) -> Pred:
    """Compare a field with another field of the same event (ASCII case folded)."""
    other, _ = needs.column(value.field)
    left = ascii_lower(column.cast(pl.String))
    right = ascii_lower(other.cast(pl.String))
    if value.starts_with and value.ends_with:
        expr = left.str.contains(right, literal=True)
    elif value.starts_with:
        expr = left.str.starts_with(right)
    elif value.ends_with:
        expr = left.str.ends_with(right)
    else:
        expr = left == right
    return Pred(_null_free(expr))


def keyword_pred(value: SigmaType, needs: Needs) -> Pred:
    """A keyword (full-text) search: the value anywhere in the raw event."""
    column, _ = needs.column("event.original")
    if isinstance(value, SigmaExpansion):
        return any_of([keyword_pred(v, needs) for v in value.values])
    if isinstance(value, SigmaString):
        multi = SpecialChars.WILDCARD_MULTI
        text = value
        if not value.startswith(multi):
            text = multi + text
        if not text.endswith(multi):
            text = text + multi
        return string_pred(column, "event.original", text)
    if isinstance(value, SigmaRegularExpression):
        return regex_pred(column, value)
    if isinstance(value, SigmaNumber):
        return string_pred(column, "event.original", SigmaString(f"*{value.number}*"))
    msg = f"keyword of type {type(value).__name__} is not supported"
    raise Unsupported(msg)


def any_of(preds: list[Pred]) -> Pred:
    """OR predicates; the row needs one of the needles of each alternative."""
    if not preds:
        return Pred(pl.lit(value=False), frozenset())
    anchors: frozenset[Anchor] | None = frozenset()
    for p in preds:
        anchors = None if anchors is None or p.anchors is None else anchors | p.anchors
    unknown = all(p.unknown for p in preds)
    never = all(p.never for p in preds)
    if len(preds) == 1:
        return preds[0]
    # Alternatives testing one field's text become one pass per kind of test.
    groups: dict[tuple[str, str, bool], list[Pred]] = {}
    exprs: list[pl.Expr] = []
    for p in preds:
        if p.text is None or p.column is None:
            exprs.append(p.expr)
        else:
            groups.setdefault((p.text[0], p.text[1], p.text[3] or p.text[1] == "re"), []).append(p)
    for members in groups.values():
        column = members[0].column
        assert column is not None
        exprs.append(_text_expr(column, [m.text for m in members if m.text is not None]))
    expr = pl.any_horizontal(exprs) if len(exprs) > 1 else exprs[0]
    return Pred(expr, anchors, unknown=unknown, never=never)


def all_of(preds: list[Pred]) -> Pred:
    """AND predicates; any one alternative's needles are necessary, take the fewest."""
    if not preds:
        return Pred(pl.lit(value=True))
    known = [p.anchors for p in preds if p.anchors is not None]
    # The most selective alternative: longest shortest needle ("GET" passes a third of
    # all web events, "UNION SELECT" almost none), then the fewest needles.
    anchors = min(known, key=_selectivity) if known else None
    if len(preds) == 1:
        return preds[0]
    return Pred(
        pl.all_horizontal([p.expr for p in preds]),
        anchors,
        unknown=all(p.unknown for p in preds),
        never=any(p.never for p in preds),
    )


def _selectivity(anchors: frozenset[Anchor]) -> tuple[int, int]:
    shortest = min((len(needle) for _, needle in anchors), default=1 << 30)
    return (-shortest, len(anchors))


def none_of(pred: Pred) -> Pred:
    """NOT: nothing is necessary any more; what is always unknown stays unknown (Kleene)."""
    return Pred(~pred.expr, unknown=pred.unknown, never=pred.unknown)
