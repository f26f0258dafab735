r"""One Sigma value on one field → one Polars predicate.

Sigma compares strings case-insensitively; Bastion folds case fully, Unicode included
(``bastion.detect.folding``): a rule's literals are folded when it compiles, and an
uncased test reads the engine's folded copy of its field. ``cased`` compares the field
exactly. Every predicate is null-free: an absent field matches no value, so ``not`` of
a value test on an absent field is true, and ``field: null`` matches it.

A quoted value is a string and an unquoted number a number: ``dst_port: '0443'`` is
the text ``0443`` (port 443 reads ``443``, so it does not match), ``dst_port: 443``
compares numerically. ``|re`` follows PCRE where Rust's regex dialect differs
(``$`` also matches before a final newline; ``\d``, ``\w``, ``\s`` and ``\b``
are ASCII), see ``pcre_to_rust``.

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
from bastion.detect.folding import fold, folded_name
from bastion.detect.logsources import COLUMNS, DERIVED

# A needle: (field, literal) — the row's folded field must contain the folded literal.
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
    folded: set[str] = field(default_factory=set)  # fields read through their folded copy

    def column(self, name: str) -> tuple[pl.Expr, pl.DataType]:
        """Return the column a field names (``value_pred`` has checked that it exists)."""
        dtype = COLUMNS[name]
        if name in DERIVED:
            self.derived.add(name)
        self.columns.add(name)
        return pl.col(name), dtype

    def text(self, name: str, *, cased: bool) -> pl.Expr:
        """Return a field as text: as it is when ``cased``, else the engine's folded copy."""
        column, _ = self.column(name)
        if cased:
            return column.cast(pl.String)
        self.folded.add(name)
        return pl.col(folded_name(name))


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


def string_pred(name: str, value: SigmaString, needs: Needs) -> Pred:
    """Match a Sigma string (with * and ? wildcards) against a field's text."""
    cased = isinstance(value, SigmaCasedString)
    column = needs.text(name, cased=cased)
    parts = [p if cased or not isinstance(p, str) else fold(p) for p in _parts(value)]
    literals = [p for p in parts if isinstance(p, str)]
    needle = max(literals, key=len, default="")
    anchors = frozenset({(name, fold(needle))}) if needle else None
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


# PCRE's meaning of escapes Rust's regex reads as Unicode classes, outside and inside [...].
_ASCII_CLASSES = {
    "d": ("[0-9]", "0-9"),
    "w": ("[0-9A-Za-z_]", "0-9A-Za-z_"),
    "s": ("[\\t\\n\\x0B\\f\\r ]", "\\t\\n\\x0B\\f\\r "),
    "D": ("[^0-9]", None),
    "W": ("[^0-9A-Za-z_]", None),
    "S": ("[^\\t\\n\\x0B\\f\\r ]", None),
    "b": ("(?-u:\\b)", None),
    "B": ("(?-u:\\B)", None),
}
_END = "(?:\\n?\\z)"  # PCRE's $ without the m flag: the end, or before a final newline


def pcre_to_rust(pattern: str, *, multiline: bool) -> str:
    """Rewrite a PCRE pattern (Sigma's ``|re`` dialect) so Rust's regex reads it the same.

    ``$`` (without ``m``) also matches before a final newline; ``\\d``, ``\\w``,
    ``\\s`` and ``\\b`` are ASCII, as in PCRE without its UCP option. Lookaround and
    back-references have no Rust equivalent: the compiled pattern then fails, and the
    rule is refused with the reason.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            outside, inside = _ASCII_CLASSES.get(e, (None, None))
            if in_class and inside is not None:
                out.append(inside)
            elif not in_class and outside is not None:
                out.append(outside)
            else:
                out.append(c + e)
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            # A "]" first in the class (after an optional "^") is a literal.
            j = i + 1 + (pattern[i + 1 : i + 2] == "^")
            if pattern[j : j + 1] == "]":
                out.append(pattern[i : j + 1])
                i = j + 1
                continue
        elif c == "$" and not multiline:
            c = _END
        out.append(c)
        i += 1
    return "".join(out)


def regex_pred(column: pl.Expr, value: SigmaRegularExpression) -> Pred:
    """Match a regular expression (PCRE, as Sigma says) with its i/m/s flags anywhere in the text."""
    flags = "".join(
        letter
        for flag, letter in (
            (SigmaRegularExpressionFlag.IGNORECASE, "i"),
            (SigmaRegularExpressionFlag.MULTILINE, "m"),
            (SigmaRegularExpressionFlag.DOTALL, "s"),
        )
        if flag in value.flags
    )
    original = value.regexp.original
    pattern = pcre_to_rust(original, multiline="m" in flags)
    pattern = f"(?{flags}){pattern}" if flags else pattern
    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except pl.exceptions.ComputeError as exc:
        msg = f"regular expression {original!r} is not supported: {exc}"
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

    A field Bastion's schema lacks is absent from every event, and absent reads as null
    (the usual SIEM convention): ``field: null`` is true, a value test false, and ``not``
    of it true. The loader warns about such fields; ``rules check`` lists them.
    """
    if name not in COLUMNS or (
        isinstance(value, SigmaFieldReference) and value.field not in COLUMNS
    ):
        needs.missing.add(name if name not in COLUMNS else str(getattr(value, "field", name)))
        return _absent(value)
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
    if isinstance(value, SigmaFieldReference):
        return fieldref_pred(name, value, needs)
    if isinstance(value, SigmaString):
        if isinstance(COLUMNS[name], _NUMERIC) and not value.contains_special():
            # Quoted, so a string: a number's column matches it only as its exact text.
            column, _ = needs.column(name)
            return Pred(_null_free(column.cast(pl.String) == value.to_plain()))
        return string_pred(name, value, needs)
    column, dtype = needs.column(name)
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
        # Unquoted, so a number: compared as one, whether the column holds numbers or text.
        return Pred(_null_free(_number(column, dtype) == float(value.number)))
    msg = f"value type {type(value).__name__} is not supported"
    raise Unsupported(msg)


def _absent(value: SigmaType) -> Pred:
    """A test on a field no event carries: only "is null" (or "does not exist") holds."""
    if isinstance(value, SigmaExpansion):
        return any_of([_absent(v) for v in value.values])
    if isinstance(value, SigmaNull) or (isinstance(value, SigmaExists) and not value.exists):
        return Pred(pl.lit(value=True))
    return Pred(pl.lit(value=False), frozenset(), never=True)


def fieldref_pred(name: str, value: SigmaFieldReference, needs: Needs) -> Pred:
    """Compare a field with another field of the same event, case folded."""
    left = ascii_lower(needs.text(name, cased=False))
    right = ascii_lower(needs.text(value.field, cased=False))
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
    if isinstance(value, SigmaExpansion):
        return any_of([keyword_pred(v, needs) for v in value.values])
    if isinstance(value, SigmaString):
        multi = SpecialChars.WILDCARD_MULTI
        text = value
        if not value.startswith(multi):
            text = multi + text
        if not text.endswith(multi):
            text = text + multi
        return string_pred("event.original", text, needs)
    if isinstance(value, SigmaRegularExpression):
        column, _ = needs.column("event.original")
        return regex_pred(column, value)
    if isinstance(value, SigmaNumber):
        return string_pred("event.original", SigmaString(f"*{value.number}*"), needs)
    msg = f"keyword of type {type(value).__name__} is not supported"
    raise Unsupported(msg)


def any_of(preds: list[Pred]) -> Pred:
    """OR predicates; the row needs one of the needles of each alternative."""
    if not preds:
        return Pred(pl.lit(value=False), frozenset())
    anchors: frozenset[Anchor] | None = frozenset()
    for p in preds:
        anchors = None if anchors is None or p.anchors is None else anchors | p.anchors
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
            groups.setdefault((p.text[0], p.text[1], p.text[3]), []).append(p)
    for members in groups.values():
        column = members[0].column
        assert column is not None
        exprs.append(_text_expr(column, [m.text for m in members if m.text is not None]))
    expr = pl.any_horizontal(exprs) if len(exprs) > 1 else exprs[0]
    return Pred(expr, anchors, never=never)


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
        never=any(p.never for p in preds),
    )


def _selectivity(anchors: frozenset[Anchor]) -> tuple[int, int]:
    shortest = min((len(needle) for _, needle in anchors), default=1 << 30)
    return (-shortest, len(anchors))


def none_of(pred: Pred) -> Pred:
    """NOT: nothing is necessary any more, and what could never be true now always is."""
    return Pred(~pred.expr)
