"""Differential: Bastion's verdicts equal pySigma's SQLite backend (the Zircolite approach).

Every shared rule that both support is converted to SQL by ``pysigma-backend-sqlite``
(with Bastion's own field-mapping pipeline and ``COLLATE NOCASE``, Sigma's case rule),
hypothesis builds batches of events out of the rule's own needles, their case flipped,
and stray characters, and each batch is evaluated both ways: the rows SQLite returns
from an in-memory table must be exactly the rows of Bastion's hits.

"Both support": SQLite's backend needs every field as a column, so rules naming a
field Bastion's schema lacks are left to the conformance test.
"""

from __future__ import annotations

import ipaddress
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaError
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import SigmaExpansion, SigmaString

from bastion.core.events import ARCHIVE_SCHEMA
from bastion.detect import Rule, RuleSet, load_ruleset, load_texts
from bastion.detect.loader import _pipeline
from bastion.detect.logsources import DERIVED_SCHEMA

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "sigma"
COLUMNS = [c for c in ARCHIVE_SCHEMA if c != "@timestamp"] + list(DERIVED_SCHEMA)
_NUMERIC = {c for c, t in ARCHIVE_SCHEMA.items() if t.is_integer()}


def _needles(rule: SigmaRule) -> list[str]:
    found: list[str] = []

    def walk(item: SigmaDetectionItem | SigmaDetection) -> None:
        if isinstance(item, SigmaDetection):
            for i in item.detection_items:
                walk(i)
            return
        values: list[Any] = []
        for v in item.value:
            values.extend(v.values if isinstance(v, SigmaExpansion) else [v])
        for v in values:
            if isinstance(v, SigmaString):
                found.extend(str(p) for p in v.s if isinstance(p, str))
            elif hasattr(v, "network"):
                found.append(str(v.network.network_address))
            elif hasattr(v, "number"):
                found.append(str(v.number))

    for detection in rule.detection.detections.values():
        walk(detection)
    return sorted(set(found)) or ["x"]


# Hand-written rules for the modifiers the shared rules do not use.
_HAND = {
    "modifiers": """
        sel_ua:
          c-useragent|windash|contains: ' -enc '
        sel_b64:
          c-uri|base64offset|contains: 'cmd'
        sel_re:
          cs-host|re|i: '^[a-z]+[.]evil$'
        sel_num:
          sc-status|gte: 500
        sel_all:
          c-uri|contains|all: ['a', '/']
        sel_cased:
          cs-method|cased: 'GET'
        filter:
          cs-host|endswith: '.nhs.uk'
        condition: (1 of sel_* or all of sel_num and sel_re) and not filter
    """,
    "keywords_and_nulls": """
        kw:
          - 'UNION SELECT'
          - 'wget*http'
        nul:
          c-useragent: null
        sel:
          cs-method: [GET, POST]
        condition: kw and sel or nul and not sel
    """,
}


def _hand_rules(backend: sqliteBackend) -> list[tuple[Rule, str, str]]:
    import textwrap

    out = []
    for name, detection in _HAND.items():
        text = (
            f"title: {name}\nid: {uuid.uuid5(uuid.NAMESPACE_URL, name)}\n"
            "logsource:\n  category: proxy\ndetection:\n"
            + textwrap.indent(textwrap.dedent(detection).strip(), "  ")
            + "\n"
        )
        (rule,) = load_texts([(name, text)]).rules
        (query,) = backend.convert(SigmaCollection.from_yaml(text))
        out.append((rule, str(query), text))
    return out


def _sql_rules() -> list[tuple[Rule, str, str]]:
    backend = sqliteBackend(
        processing_pipeline=_pipeline({}), collate_nocase=True, fulltext_field="event.original"
    )
    hand = _hand_rules(backend)
    if not SHARED.is_dir():
        return hand
    rules = load_ruleset([SHARED / "rules", SHARED / "rules-threat-hunting"])
    out = hand
    for rule in rules.rules:
        if rule.warnings and any("has no column" in w for w in rule.warnings):
            continue
        assert rule.path is not None
        text = Path(rule.path).read_text()
        try:
            (query,) = backend.convert(SigmaCollection.from_yaml(text))
        except SigmaError:  # a rule the SQLite backend cannot convert
            continue
        out.append((rule, str(query), text))
    return out


RULES = _sql_rules()


def test_most_shared_rules_are_compared() -> None:
    if not SHARED.is_dir():
        pytest.skip("shared data is not here")
    assert len(RULES) >= 50 + len(_HAND)


def _regexp(pattern: str, value: object) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def _sqlite_rows(query: str, batch: pl.DataFrame) -> list[int]:
    db = sqlite3.connect(":memory:")
    db.create_function("REGEXP", 2, _regexp, deterministic=True)
    cols = ", ".join(
        f'"{c}" {"INTEGER" if c in _NUMERIC else "TEXT"}' for c in [*COLUMNS, "timestamp"]
    )
    db.execute(f"CREATE TABLE logs ({cols})")
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    # A Boolean field is stored as its text, as a log writes it ("true"/"false").
    rows = [
        tuple(("true" if v else "false") if isinstance(v, bool) else v for v in row)
        for row in batch.select(COLUMNS).rows()
    ]
    db.executemany(f"INSERT INTO logs ({names}) VALUES ({marks})", rows)
    select = query.replace("SELECT * FROM logs", "SELECT rowid FROM logs", 1)
    return sorted(r[0] - 1 for r in db.execute(select))


def _flip(text: str) -> str:
    return "".join(c.swapcase() if c.isascii() else c for c in text)


@st.composite
def _batch(draw: st.DrawFn, rule: Rule, sigma: SigmaRule) -> pl.DataFrame:
    needles = _needles(sigma)
    piece = st.one_of(
        st.sampled_from(needles),
        st.sampled_from(needles).map(_flip),
        st.sampled_from(["", ".", "/", "-", " ", "a", "Z", "é", "?", "*", "\\"]),
    )
    text = st.lists(piece, max_size=4).map("".join)
    # The backend tests CIDRs as text prefixes: compare on real addresses, not on "10.x".
    nets = [n for n in needles if n.count(".") == 3 or ":" in n]
    address = st.one_of(
        st.ip_addresses(v=4).map(str),
        st.ip_addresses(v=6).map(str),
        st.sampled_from(nets or ["192.0.2.1"]),
        st.sampled_from(nets or ["192.0.2.1"]).map(lambda n: str(ipaddress.ip_address(n) + 7)),
    )
    fields = sorted(rule.detection.needs.columns | {"event.original"})
    rows = []
    for _ in range(draw(st.integers(1, 30))):
        row: dict[str, Any] = {}
        for name in fields:
            if name.endswith(".ip"):
                value = draw(st.one_of(st.none(), address))
            elif ARCHIVE_SCHEMA.get(name) == pl.Boolean:
                value = draw(st.one_of(st.none(), st.booleans()))
            elif name in _NUMERIC:
                top = 7 if ARCHIVE_SCHEMA[name] == pl.Int8 else 70000  # dns.z: three bits
                numbers = [int(n) for n in needles if n.isdigit() and int(n) <= top] or [0]
                value: Any = draw(
                    st.one_of(st.none(), st.sampled_from(numbers), st.integers(0, top))
                )
            else:
                value = draw(st.one_of(st.none(), text))
            row[name] = value
        rows.append(row)
    frame = pl.DataFrame(
        {
            c: pl.Series(c, [r.get(c) for r in rows], dtype=ARCHIVE_SCHEMA.get(c, pl.String()))
            for c in COLUMNS
        }
    ).with_columns(pl.lit(rule.datasets[0] if rule.datasets else "x").alias("event.dataset"))
    # derived columns are computed by the engine; give SQLite the same values
    return frame.with_columns(
        pl.col("url.full").str.extract(r"\?(.*)$", 1).alias("url.query"),
        pl.col("url.path").str.extract(r"\.([^./]*)$", 1).alias("url.extension"),
    )


@pytest.mark.parametrize(
    ("rule", "query", "text"), RULES, ids=[Path(r.path or "").stem for r, _, _ in RULES]
)
def test_bastion_equals_sqlite(rule: Rule, query: str, text: str) -> None:
    sigma = SigmaRule.from_yaml(text)
    single = RuleSet([rule])

    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_batch(rule, sigma))
    def check(batch: pl.DataFrame) -> None:
        ours = sorted(single.evaluate(batch).get_column("row").to_list())
        assert ours == _sqlite_rows(query, batch), query

    check()


# Where Bastion and the SQLite backend disagree on purpose: each row is a detection, the
# values of one field, and the rows each engine matches (None: SQLite cannot run the
# query). Both sides are asserted, so a
# change in either engine fails here and the table is updated with its reason.
KNOWN_DIFFERENCES = [
    pytest.param(
        "c-useragent|contains: 'Ünïcödé'",
        ["xÜNÏCÖDÉx", "xünïcödéx", "unicode", "Ünïcödé"],
        [0, 1, 3],
        [3],
        id="unicode-case: Sigma folds case fully; SQLite's NOCASE folds ASCII only",
    ),
    pytest.param(
        "dst_port: '0443'",
        [443, 80],
        [],
        [0],
        id="quoted-number: a quoted value is a string; SQLite casts it to an integer column",
    ),
    pytest.param(
        "c-useragent: 443",
        ["0443", "443"],
        [0, 1],
        [1],
        id="unquoted-number: compared numerically; SQLite compares it as text to a text column",
    ),
    pytest.param(
        'c-useragent: "a\\0b"',
        ["a\x00b", "ab"],
        [0],
        None,
        id="nul: Python's sqlite3 refuses a query holding a NUL byte, so it cannot run",
    ),
]


@pytest.mark.parametrize(("detection", "values", "ours", "sqlite"), KNOWN_DIFFERENCES)
def test_known_differences_from_the_sqlite_backend(
    detection: str, values: list[Any], ours: list[int], sqlite: list[int] | None
) -> None:
    name, _, _ = detection.partition(":")
    field = name.split("|")[0]
    text = (
        f"title: difference\nid: {uuid.uuid5(uuid.NAMESPACE_URL, detection)}\n"
        f"logsource:\n  category: proxy\ndetection:\n  sel:\n    {detection}\n  condition: sel\n"
    )
    (rule,) = load_texts([("difference", text)]).rules
    backend = sqliteBackend(
        processing_pipeline=_pipeline({}), collate_nocase=True, fulltext_field="event.original"
    )
    (query,) = backend.convert(SigmaCollection.from_yaml(text))
    (column,) = rule.detection.needs.columns
    assert field in {"c-useragent", "dst_port"}
    dtype = ARCHIVE_SCHEMA[column]
    batch = pl.DataFrame(
        {
            c: pl.Series(c, [None] * len(values), dtype=ARCHIVE_SCHEMA.get(c, pl.String()))
            for c in COLUMNS
        }
    ).with_columns(
        pl.Series(column, values, dtype=dtype),
        pl.lit("squid.access").alias("event.dataset"),
    )
    assert sorted(RuleSet([rule]).evaluate(batch).get_column("row").to_list()) == ours
    if sqlite is None:
        with pytest.raises(sqlite3.ProgrammingError):
            _sqlite_rows(str(query), batch)
    else:
        assert _sqlite_rows(str(query), batch) == sqlite
