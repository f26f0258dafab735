"""`bastion rules`: check, test (what matched and which selection fired), list, disable, enable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]
DETECTION = """
sel_paste:
  c-uri|contains: '.pastebin.com/raw/'
sel_get:
  cs-method: GET
condition: sel_paste and sel_get
"""
SQUID = (
    "1764579600.000 102 192.0.2.1 TCP_MISS/200 507 {method} {url} - DIRECT/203.0.113.9 text/html\n"
)


def test_check_reports_each_file(bastion: Run, tmp_path: Path, kit: Any) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "good.yml").write_text(kit.rule_yaml(DETECTION))
    (folder / "bad.yml").write_text("title: x\n")
    result = bastion("rules", "check", str(folder), "--json")
    assert result.exit_code == 1  # one file did not compile
    reports = {Path(r["path"]).name: r for r in json.loads(result.stdout)}
    assert reports["good.yml"]["status"] == "compiled"
    assert reports["bad.yml"]["status"] == "invalid"
    assert reports["bad.yml"]["reason"]
    assert bastion("rules", "check", str(folder / "good.yml")).exit_code == 0


def test_test_says_what_matched_and_which_selection(bastion: Run, tmp_path: Path, kit: Any) -> None:
    rule = tmp_path / "paste.yml"
    rule.write_text(kit.rule_yaml(DETECTION))
    log = tmp_path / "access.log"
    log.write_text(
        SQUID.format(method="POST", url="http://a.pastebin.com/raw/1")
        + SQUID.format(method="GET", url="http://a.pastebin.com/raw/2")
        + "garbage line\n"
    )
    result = bastion("rules", "test", str(rule), "--log", str(log), "--format", "squid", "--json")
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert (run["format"], run["events"], run["rejects"]) == ("squid", 2, 1)
    (match,) = run["matches"]
    assert match["line"] == 2
    assert match["selections"] == ["sel_paste", "sel_get"]
    assert "raw/2" in match["raw"]
    text = bastion("rules", "test", str(rule), "--log", str(log), "-f", "squid")
    assert "line 2: Test rule" in text.stdout
    assert "fired by sel_paste, sel_get" in text.stdout


def test_test_with_no_runnable_rule_is_an_error(bastion: Run, tmp_path: Path) -> None:
    rule = tmp_path / "bad.yml"
    rule.write_text("title: x\n")
    log = tmp_path / "a.log"
    log.write_text("x\n")
    result = bastion("rules", "test", str(rule), "--log", str(log), "-f", "squid")
    assert result.exit_code != 0
    assert "no rule to test" in result.stderr


def test_list_disable_enable(bastion: Run, tmp_path: Path, kit: Any) -> None:
    assert bastion("init").exit_code == 0
    rules = tmp_path / "data" / "rules"
    rules.mkdir(parents=True)
    (rules / "paste.yml").write_text(kit.rule_yaml(DETECTION))
    (rules / "zbroken.yml").write_text("title: broken\n")
    listed = [
        r for r in json.loads(bastion("rules", "list", "--json").stdout) if "builtin" not in r
    ]
    assert [(r["id"], r["status"], r["hits"]) for r in listed] == [
        (kit.RULE_ID, "enabled", 0),
        (None, "invalid", 0),
    ]
    assert listed[1]["reason"]
    (rules / "zbroken.yml").unlink()
    assert bastion("rules", "disable", kit.RULE_ID).exit_code == 0
    assert json.loads(bastion("rules", "list", "--json").stdout)[0]["status"] == "disabled"
    assert bastion("rules", "enable", kit.RULE_ID).exit_code == 0
    assert json.loads(bastion("rules", "list", "--json").stdout)[0]["status"] == "enabled"
    trail = json.loads(bastion("audit", "list", "--action", "rule.", "--json").stdout)
    assert [(e["action"], e["target"]) for e in reversed(trail)] == [
        ("rule.disable", f"rule:{kit.RULE_ID}"),
        ("rule.enable", f"rule:{kit.RULE_ID}"),
    ]
    missing = bastion("rules", "disable", "no-such-rule")
    assert missing.exit_code != 0
    assert "no compiled rule has id" in missing.stderr
    log = tmp_path / "access.log"
    log.write_text(SQUID.format(method="GET", url="http://a.pastebin.com/raw/2"))
    assert bastion("boundary", "ingest", str(log), "--format", "squid").exit_code == 0
    assert json.loads(bastion("rules", "list", "--json").stdout)[0]["hits"] == 1


def test_placeholders_come_from_the_config_file(bastion: Run, tmp_path: Path, kit: Any) -> None:
    rule = tmp_path / "internal.yml"
    rule.write_text(kit.rule_yaml("sel:\n  cs-host|expand|endswith: '%internal%'\ncondition: sel"))
    unset = json.loads(bastion("rules", "check", str(rule), "--json").stdout)
    assert "placeholder %internal% has no values" in unset[0]["reason"]
    (tmp_path / "bastion.toml").write_text(
        "[bastion.rule_placeholders]\ninternal = ['.nhs.uk', '.nhs.net']\n"
    )
    result = bastion("rules", "check", str(rule), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["status"] == "compiled"


def test_builtin_checks_are_listed_disabled_and_enabled_like_rules(bastion: Run) -> None:
    assert bastion("init").exit_code == 0
    listed = {r["id"]: r for r in json.loads(bastion("rules", "list", "--json").stdout)}
    builtin = ["builtin:exfiltration", "builtin:log4shell-probe", "builtin:port-scan"]
    assert sorted(i for i in listed if i and i.startswith("builtin:")) == builtin
    assert {listed[i]["status"] for i in builtin} == {"enabled"}
    assert bastion("rules", "disable", "builtin:port-scan").exit_code == 0
    after = {r["id"]: r["status"] for r in json.loads(bastion("rules", "list", "--json").stdout)}
    assert after["builtin:port-scan"] == "disabled"
    assert after["builtin:exfiltration"] == "enabled"
    trail = json.loads(bastion("audit", "list", "--action", "rule.", "--json").stdout)
    assert [(e["action"], e["target"]) for e in trail] == [
        ("rule.disable", "rule:builtin:port-scan")
    ]
