"""The rule specification, construct by construct: a detection in, the exact rows it matches out."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

Match = Callable[..., list[int]]
UA = "user_agent.original"
URL = "url.full"


def ua(*values: str | None) -> list[dict[str, Any]]:
    return [{UA: v} for v in values]


def test_plain_value_is_case_insensitive_whole_field(match: Match) -> None:
    rows = ua("Rclone/1.0", "rclone/1.0", "RCLONE/1.0 extra", None)
    assert match("sel:\n  c-useragent: 'rclone/1.0'\ncondition: sel", rows) == [0, 1]


def test_cased_compares_exactly(match: Match) -> None:
    rows = ua("Rclone", "rclone")
    assert match("sel:\n  c-useragent|cased: 'rclone'\ncondition: sel", rows) == [1]
    assert match("sel:\n  c-useragent|cased|contains: 'Cl'\ncondition: sel", rows) == []


def test_case_folding_is_unicode_aware(match: Match) -> None:
    rows = ua("ÉCOLE", "école", "ECOLE")
    assert match("sel:\n  c-useragent: 'école'\ncondition: sel", rows) == [0, 1]
    rows = ua("xÜNÏCÖDÉx", "xünïcödéx", "xUNICODEx", "Ünïcödé")
    contains = "sel:\n  c-useragent|contains: 'Ünïcödé'\ncondition: sel"
    assert match(contains, rows) == [0, 1, 3]
    # full folding, as str.casefold: ß is ss, the long s is s, the Kelvin sign is k
    rows = ua("STRASSE", "straße", "ſelect", "\u212aill", "select")
    assert match("sel:\n  c-useragent: 'strasse'\ncondition: sel", rows) == [0, 1]
    assert match("sel:\n  c-useragent|contains: 'SELECT'\ncondition: sel", rows) == [2, 4]
    assert match("sel:\n  c-useragent|startswith: 'kill'\ncondition: sel", rows) == [3]
    # several needles on one field (one Aho-Corasick pass), and a wildcard (a regex)
    either = "sel:\n  c-useragent|contains: ['Ünï', 'zzz']\ncondition: sel"
    assert match(either, ua("xÜNÏx", "ZZZ", "unix")) == [0, 1]
    assert match("sel:\n  c-useragent: 'é*e'\ncondition: sel", ua("ÉCOLE", "eCOLE")) == [0]
    # cased compares the text exactly, Unicode or not
    assert match("sel:\n  c-useragent|cased: 'École'\ncondition: sel", ua("ÉCOLE", "École")) == [1]


@pytest.mark.parametrize(
    ("modifier", "expected"),
    [("contains", [0, 1, 2]), ("startswith", [0, 2]), ("endswith", [1, 2])],
)
def test_contains_startswith_endswith(match: Match, modifier: str, expected: list[int]) -> None:
    rows = ua("curl/7.1 x", "x curl", "CURL", "cur l")
    assert match(f"sel:\n  c-useragent|{modifier}: curl\ncondition: sel", rows) == expected


def test_wildcards_and_escapes(match: Match) -> None:
    rows = ua("a*b", "axxb", "ab", "a?b", "acb")
    assert match("sel:\n  c-useragent: 'a*b'\ncondition: sel", rows) == [0, 1, 2, 3, 4]
    assert match("sel:\n  c-useragent: 'a?b'\ncondition: sel", rows) == [0, 3, 4]
    assert match("sel:\n  c-useragent: 'a\\*b'\ncondition: sel", rows) == [0]
    assert match("sel:\n  c-useragent: 'a\\?b'\ncondition: sel", rows) == [3]
    # a backslash before an ordinary character is a plain backslash
    assert match("sel:\n  c-useragent: 'c:\\windows'\ncondition: sel", ua("C:\\Windows")) == [0]


def test_list_is_or_map_is_and_list_of_maps_is_or(match: Match) -> None:
    rows = [
        {UA: "a", "http.request.method": "GET"},
        {UA: "b", "http.request.method": "POST"},
        {UA: "a", "http.request.method": "POST"},
    ]
    assert match("sel:\n  c-useragent: [a, b]\ncondition: sel", rows) == [0, 1, 2]
    assert match("sel:\n  c-useragent: a\n  cs-method: POST\ncondition: sel", rows) == [2]
    detection = """
    sel:
      - c-useragent: b
      - cs-method: GET
    condition: sel
    """
    assert match(detection, rows) == [0, 1]


def test_all_modifier(match: Match) -> None:
    rows = ua("alpha beta", "alpha", "beta alpha gamma")
    assert match("sel:\n  c-useragent|contains|all: [alpha, beta]\ncondition: sel", rows) == [0, 2]


def test_null_and_exists(match: Match) -> None:
    rows = ua("x", None, "")
    assert match("sel:\n  c-useragent: null\ncondition: sel", rows) == [1]
    assert match("sel:\n  c-useragent|exists: true\ncondition: sel", rows) == [0, 2]
    assert match("sel:\n  c-useragent|exists: false\ncondition: sel", rows) == [1]
    assert match("sel:\n  c-useragent: ''\ncondition: sel", rows) == [2]


def test_neq(match: Match) -> None:
    rows = ua("a", "b", "A", None)
    # an absent value is different from every value
    assert match("sel:\n  c-useragent|neq: a\ncondition: sel", rows) == [1, 3]


def test_regex_follows_pcre(match: Match) -> None:
    rows = ua("a trailer\n", "a trailer", "a trailer\n\n", "a trailer x", "٣", "3")
    # PCRE's $ also matches before a final newline (and only one)
    assert match("sel:\n  c-useragent|re: 'trailer$'\ncondition: sel", rows) == [0, 1]
    assert match("sel:\n  c-useragent|re|m: 'trailer$'\ncondition: sel", rows) == [0, 1, 2]
    assert match("sel:\n  c-useragent|re: 'trailer\\z'\ncondition: sel", rows) == [1]
    # a literal $, and $ inside a class, are left alone
    assert match("sel:\n  c-useragent|re: '\\$[$]'\ncondition: sel", ua("a$$", "a$")) == [0]
    # \d, \w and \b are ASCII, as in PCRE (an Arabic-Indic three is not a digit)
    assert match("sel:\n  c-useragent|re: '^\\d$'\ncondition: sel", rows) == [5]
    assert match("sel:\n  c-useragent|re: '^[\\d]$'\ncondition: sel", rows) == [5]
    assert match("sel:\n  c-useragent|re: '^\\w$'\ncondition: sel", ua("é", "e")) == [1]


def test_regex_and_its_flags(match: Match) -> None:
    rows = ua("Mozilla/5.0", "mozilla/5.0", "line1\nMozilla", "a\nb")
    assert match("sel:\n  c-useragent|re: '^Mozilla'\ncondition: sel", rows) == [0]
    assert match("sel:\n  c-useragent|re|i: '^mozilla'\ncondition: sel", rows) == [0, 1]
    assert match("sel:\n  c-useragent|re|m: '^Mozilla'\ncondition: sel", rows) == [0, 2]
    assert match("sel:\n  c-useragent|re|s: 'a.b'\ncondition: sel", rows) == [3]
    assert match("sel:\n  c-useragent|re: 'a.b'\ncondition: sel", rows) == []


def test_unsupported_regex_is_reported_with_reason(kit: Any) -> None:
    text = kit.rule_yaml("sel:\n  c-useragent|re: '(?<=x)y'\ncondition: sel")
    rules = kit.ruleset(text)
    assert rules.rules == []
    (report,) = rules.reports
    # pySigma's own regex check already refuses a look-behind: the rule is reported, with why
    assert report.status.value in {"invalid", "unsupported"}
    assert "(?<=x)y" in (report.reason or "")


def test_cidr_v4_and_v6(match: Match) -> None:
    rows = [{"destination.ip": ip} for ip in ("10.1.2.3", "11.0.0.1", "2001:db8::1", "2001:db9::1")]
    rows.append({"destination.ip": "not an ip"})
    assert match("sel:\n  dst_ip|cidr: 10.0.0.0/8\ncondition: sel", rows) == [0]
    assert match("sel:\n  dst_ip|cidr: '2001:db8::/32'\ncondition: sel", rows) == [2]
    both = "sel:\n  dst_ip|cidr: ['10.0.0.0/8', '2001:db8::/32']\ncondition: sel"
    assert match(both, rows) == [0, 2]


def test_base64_and_base64offset(match: Match) -> None:
    plain = base64.b64encode(b"evil").decode()
    rows = ua(plain, "xx" + plain, base64.b64encode(b"..evil..").decode(), "evil")
    assert match("sel:\n  c-useragent|base64: evil\ncondition: sel", rows) == [0]
    assert match("sel:\n  c-useragent|base64|contains: evil\ncondition: sel", rows) == [0, 1]
    offset = "sel:\n  c-useragent|base64offset|contains: evil\ncondition: sel"
    assert match(offset, rows) == [0, 1, 2]


def test_utf16_encodings(match: Match) -> None:
    rows = ua("c\x00m\x00d\x00", "\x00c\x00m\x00d", "cmd")
    assert match("sel:\n  c-useragent|utf16le|contains: cmd\ncondition: sel", rows) == [0]
    assert match("sel:\n  c-useragent|wide|contains: cmd\ncondition: sel", rows) == [0]
    assert match("sel:\n  c-useragent|utf16be|contains: cmd\ncondition: sel", rows) == [1]


def test_windash(match: Match) -> None:
    rows = ua("x -enc y", "x /enc y", "x \u2013enc y", "x enc y")
    assert match("sel:\n  c-useragent|windash|contains: ' -enc '\ncondition: sel", rows) == [
        0,
        1,
        2,
    ]


def test_numeric_comparisons(match: Match) -> None:
    rows = [{"http.response.status_code": c} for c in (200, 404, 500, None)]
    assert match("sel:\n  sc-status|lt: 404\ncondition: sel", rows) == [0]
    assert match("sel:\n  sc-status|lte: 404\ncondition: sel", rows) == [0, 1]
    assert match("sel:\n  sc-status|gt: 404\ncondition: sel", rows) == [2]
    assert match("sel:\n  sc-status|gte: 404\ncondition: sel", rows) == [1, 2]
    assert match("sel:\n  sc-status: 404\ncondition: sel", rows) == [1]
    assert match("sel:\n  sc-status: '404'\ncondition: sel", rows) == [1]


@pytest.mark.parametrize("quoted", ["0443", " 443", "443.0", "4.43e2", "443 "])
def test_a_quoted_number_is_a_string(match: Match, quoted: str) -> None:
    ports = [{"destination.port": p} for p in (443, 80, None)]
    assert match(f"sel:\n  dst_port: '{quoted}'\ncondition: sel", ports) == []
    # against text, a quoted value is that text (case folded), nothing else
    rows = ua(quoted, "443", "0443")
    expected = [0] if quoted != "0443" else [0, 2]
    assert match(f"sel:\n  c-useragent: '{quoted}'\ncondition: sel", rows) == expected


def test_an_unquoted_number_compares_numerically(match: Match) -> None:
    ports = [{"destination.port": p} for p in (443, 80, None)]
    assert match("sel:\n  dst_port: 443\ncondition: sel", ports) == [0]
    assert match("sel:\n  dst_port: '443'\ncondition: sel", ports) == [0]
    # against text, an unquoted number matches text that reads as the same number
    # (surrounding spaces allowed, as the comparison modifiers allow them)
    rows = ua("443", "0443", "443.0", " 443", "443x", None)
    assert match("sel:\n  c-useragent: 443\ncondition: sel", rows) == [0, 1, 2, 3]


def test_fieldref(match: Match) -> None:
    rows = [
        {"url.domain": "a.example", "url.full": "http://A.example/"},
        {"url.domain": "a.example", "url.full": "a.example"},
        {"url.domain": "b.example", "url.full": "http://a.example/"},
    ]
    assert match("sel:\n  c-uri|fieldref: cs-host\ncondition: sel", rows) == [1]
    assert match("sel:\n  c-uri|fieldref|contains: cs-host\ncondition: sel", rows) == [0, 1]


def test_expand_with_placeholders(match: Match, kit: Any) -> None:
    rows = [{"url.domain": d} for d in ("intranet.nhs.uk", "evil.example", "mail.nhs.uk")]
    detection = "sel:\n  cs-host|expand|endswith: '%internal%'\ncondition: not sel"
    assert match(detection, rows, placeholders={"internal": [".nhs.uk", ".nhs.net"]}) == [1]
    rules = kit.ruleset(kit.rule_yaml(detection))
    assert rules.rules == []
    assert "placeholder %internal% has no values" in (rules.reports[0].reason or "")


def test_time_modifiers(match: Match) -> None:
    times = [datetime(2026, 1, 2, h, 30, tzinfo=UTC) for h in (1, 3, 23)]
    rows = [{"@timestamp": t} for t in times]
    assert match("sel:\n  '@timestamp|hour': 3\ncondition: sel", rows) == [1]
    assert match("sel:\n  '@timestamp|minute': 30\ncondition: sel", rows) == [0, 1, 2]
    assert match("sel:\n  '@timestamp|day': 2\ncondition: sel", rows) == [0, 1, 2]
    assert match("sel:\n  '@timestamp|month': 2\ncondition: sel", rows) == []
    assert match("sel:\n  '@timestamp|year': 2026\ncondition: sel", rows) == [0, 1, 2]


def test_keywords_search_the_raw_event(match: Match) -> None:
    rows = [{"event.original": t} for t in ("GET /a UNION SELECT 1", "GET /b", None)]
    assert match("kw:\n  - 'union select'\ncondition: kw", rows) == [0]
    assert match("kw:\n  - 'GET*SELECT'\ncondition: kw", rows) == [0]
    assert match("kw:\n  '|all':\n    - GET\n    - /b\ncondition: kw", rows) == [1]


def test_quantifiers_patterns_them_not_and_precedence(match: Match) -> None:
    rows = ua("a", "b", "c", "ab", "abc")
    detection = """
    sel_a:
      c-useragent|contains: a
    sel_b:
      c-useragent|contains: b
    other:
      c-useragent|contains: c
    condition: {}
    """
    cases = {
        "1 of sel_*": [0, 1, 3, 4],
        "all of sel_*": [3, 4],
        "1 of them": [0, 1, 2, 3, 4],
        "all of them": [4],
        "any of sel_*": [0, 1, 3, 4],
        "not sel_a": [1, 2],
        "sel_a and not sel_b": [0],
        # and binds tighter than or: other or (sel_a and sel_b)
        "other or sel_a and sel_b": [2, 3, 4],
        "(other or sel_a) and sel_b": [3, 4],
        "not (sel_a or other)": [1],
        "all of sel_* and not other": [3],
    }
    for condition, expected in cases.items():
        assert match(detection.format(condition), rows) == expected, condition


def test_condition_list_is_alternatives(match: Match) -> None:
    rows = ua("a", "b", "c")
    detection = "a:\n  c-useragent: a\nb:\n  c-useragent: b\ncondition:\n  - a\n  - b"
    assert match(detection, rows) == [0, 1]


def test_a_field_no_event_carries_reads_as_null(match: Match, kit: Any) -> None:
    detection = (
        "ua:\n  c-useragent: x\ncookie:\n  cs-cookie: y\nnocookie:\n  cs-cookie: null\n"
        "condition: {}"
    )
    rows = ua("x", "z")
    # absent is null: a value test is false, its "not" true, and "field: null" true
    assert match(detection.format("cookie"), rows) == []
    assert match(detection.format("not cookie"), rows) == [0, 1]
    assert match(detection.format("ua or cookie"), rows) == [0]
    assert match(detection.format("ua and not cookie"), rows) == [0]
    assert match(detection.format("ua and nocookie"), rows) == [0]
    assert match(detection.format("not nocookie"), rows) == []
    rules = kit.ruleset(kit.rule_yaml(detection.format("ua or cookie")))
    assert any("'cs-cookie' has no column" in w for w in rules.reports[0].warnings)
    # a rule that can only be true through the absent field is compiled, and never run
    rules = kit.ruleset(kit.rule_yaml(detection.format("cookie")))
    assert rules.rules[0].detection.never


def test_numbers_in_text_fields_and_booleans(match: Match) -> None:
    rows = ua("1", "01", "true", "True")
    assert match("sel:\n  c-useragent: 1\ncondition: sel", rows) == [0, 1]
    assert match("sel:\n  c-useragent: '1'\ncondition: sel", rows) == [0]
    assert match("sel:\n  c-useragent: true\ncondition: sel", rows) == [2, 3]
