"""Loading: every file reported, filters applied, correlations kept, rules routed by log source."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from bastion.core.errors import InputError
from bastion.detect import RuleSet, RuleStatus, load_ruleset

FILTER_ID = "99999999-2222-3333-4444-555555555555"


def test_every_shared_rule_compiles(shared_data: Path) -> None:
    folders = [shared_data / "sigma" / "rules", shared_data / "sigma" / "rules-threat-hunting"]
    rules = load_ruleset(folders)
    statuses = {r.path: r.status for r in rules.reports}
    files = sorted(str(p) for f in folders for p in f.rglob("*.yml"))
    assert sorted(statuses) == files
    assert set(statuses.values()) == {RuleStatus.COMPILED}
    assert len(rules.rules) == len(files)


def test_bad_files_are_reported_not_skipped(tmp_path: Path, kit: Any) -> None:
    (tmp_path / "broken.yml").write_text("title: [unclosed\n")
    (tmp_path / "empty.yml").write_text("")
    (tmp_path / "nodetect.yml").write_text("title: x\nlogsource:\n  category: proxy\n")
    (tmp_path / "good.yml").write_text(kit.rule_yaml("sel:\n  c-useragent: x\ncondition: sel"))
    (tmp_path / "zdup.yml").write_text(kit.rule_yaml("sel:\n  c-useragent: y\ncondition: sel"))
    rules = load_ruleset([tmp_path])
    by_file = {Path(r.path or "").name: r for r in rules.reports}
    assert by_file["broken.yml"].status is RuleStatus.INVALID
    assert "not valid YAML" in (by_file["broken.yml"].reason or "")
    assert by_file["empty.yml"].reason == "the file holds no YAML document"
    assert by_file["nodetect.yml"].status is RuleStatus.INVALID
    assert by_file["nodetect.yml"].reason
    assert by_file["zdup.yml"].status is RuleStatus.INVALID
    assert "duplicate rule id" in (by_file["zdup.yml"].reason or "")
    assert by_file["good.yml"].status is RuleStatus.COMPILED
    assert len(rules.rules) == 1


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such rule file or folder"):
        load_ruleset([tmp_path / "nope"])


def test_rule_without_id_gets_a_stable_one(kit: Any) -> None:
    text = kit.rule_yaml("sel:\n  c-useragent: x\ncondition: sel").replace(
        f"id: {kit.RULE_ID}\n", ""
    )
    first, second = kit.ruleset(text), kit.ruleset(text)
    assert first.rules[0].id == second.rules[0].id
    assert "has no id" in first.reports[0].warnings[0]


def test_rules_only_meet_their_log_source(kit: Any) -> None:
    dns = kit.rule_yaml("sel:\n  query|endswith: .evil\ncondition: sel", "category: dns")
    proxy = kit.rule_yaml("sel:\n  cs-host|endswith: .evil\ncondition: sel").replace(
        kit.RULE_ID, "22222222-2222-3333-4444-555555555555"
    )
    rules = kit.ruleset(dns, proxy)
    batch = pl.concat(
        [
            kit.events([{"dns.question.name": "a.evil", "url.domain": "a.evil"}], "zeek.dns"),
            kit.events([{"dns.question.name": "a.evil", "url.domain": "a.evil"}], "squid.access"),
            kit.events([{"dns.question.name": "a.evil", "url.domain": "a.evil"}], "panos.traffic"),
        ]
    )
    hits = rules.evaluate(batch)
    assert hits.select("rule.id", "row").rows() == [
        (kit.RULE_ID, 0),
        ("22222222-2222-3333-4444-555555555555", 1),
    ]
    assert hits.schema == {
        "rule.id": pl.String(),
        "rule.name": pl.String(),
        "rule.title": pl.String(),
        "rule.level": pl.String(),
        "row": pl.UInt32(),
    }


def test_empty_field_is_reported_once_per_dataset(kit: Any, caplog: Any) -> None:
    rules = kit.ruleset(kit.rule_yaml("sel:\n  c-useragent: x\ncondition: sel"))
    batch = kit.events([{"url.full": "http://a/"}] * 3, "squid.access")
    with caplog.at_level(logging.INFO, logger="bastion.detect.engine"):
        rules.evaluate(batch)
        rules.evaluate(batch)
    assert rules.empty_fields == {(kit.RULE_ID, "squid.access", "user_agent.original")}
    assert sum("is empty in dataset" in r.message for r in caplog.records) == 1


def _filter(selection: str, rules: str) -> str:
    return (
        f"title: Exception\nid: {FILTER_ID}\nlogsource:\n  category: proxy\n"
        f"filter:\n  rules:\n    - {rules}\n  selection:\n{selection}\n  condition: not selection\n"
    )


def test_global_filter_is_an_exception(kit: Any) -> None:
    rule = kit.rule_yaml("sel:\n  c-useragent|contains: curl\ncondition: sel")
    rules = kit.ruleset(rule, _filter("    cs-host: updates.example", kit.RULE_ID))
    batch = kit.events(
        [
            {"user_agent.original": "curl/8", "url.domain": "updates.example"},
            {"user_agent.original": "curl/8", "url.domain": "other.example"},
        ]
    )
    assert kit.matched(rules, batch) == [1]
    assert [r.status for r in rules.reports] == [RuleStatus.FILTER, RuleStatus.COMPILED]


def test_per_organisation_filter(kit: Any) -> None:
    rule = kit.rule_yaml("sel:\n  c-useragent|contains: curl\ncondition: sel")
    selection = "    organization.id: R0A\n    cs-host: updates.example"
    rules = kit.ruleset(rule, _filter(selection, kit.RULE_ID))
    batch = kit.events(
        [
            {"user_agent.original": "curl", "url.domain": "updates.example", "organization.id": o}
            for o in ("R0A", "R1B")
        ]
    )
    assert kit.matched(rules, batch) == [1]


def test_filter_for_another_rule_does_not_apply(kit: Any) -> None:
    rule = kit.rule_yaml("sel:\n  c-useragent|contains: curl\ncondition: sel")
    other = "33333333-2222-3333-4444-555555555555"
    rules = kit.ruleset(rule, _filter("    cs-host: updates.example", other))
    batch = kit.events([{"user_agent.original": "curl", "url.domain": "updates.example"}])
    assert kit.matched(rules, batch) == [0]


CORRELATION = """
title: Many curls
id: 44444444-2222-3333-4444-555555555555
correlation:
  type: event_count
  rules:
    - curl_ua
  group-by:
    - source.ip
  timespan: 5m
  condition:
    gte: 10
"""


def test_correlations_kept_and_generate_false_base_rule_raises_no_alert(kit: Any) -> None:
    base = kit.rule_yaml("sel:\n  c-useragent|contains: curl\ncondition: sel", name="curl_ua")
    rules: RuleSet = kit.ruleset(base, CORRELATION)
    assert [c.title for c in rules.correlations] == ["Many curls"]
    (rule,) = rules.rules
    assert rule.name == "curl_ua"
    assert rule.alert is False
    hits = rules.evaluate(kit.events([{"user_agent.original": "curl"}]))
    assert hits.get_column("rule.name").to_list() == ["curl_ua"]
    loud = kit.ruleset(base, CORRELATION.replace("timespan", "generate: true\n  timespan"))
    assert loud.rules[0].alert is True


def test_pysigma_validators_report_with_the_rule(kit: Any) -> None:
    detection = "sel:\n  c-useragent: 'a**b'\ncondition: sel"
    rules = kit.ruleset(kit.rule_yaml(detection))
    (report,) = rules.reports
    assert report.status is RuleStatus.COMPILED
    assert any(w.startswith("validation (") and "wildcard" in w for w in report.warnings)
