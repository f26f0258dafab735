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


def _probes(destination: str, ports: range) -> str:
    """Netfilter lines: 198.51.100.23 probing ``destination`` on each of ``ports``, denied."""
    return "".join(
        f"Nov 25 13:01:{port % 60:02d} gw01 kernel: DROP-IN IN=eth0 OUT= SRC=198.51.100.23 "
        f"DST={destination} LEN=60 TTL=52 PROTO=TCP SPT=51515 DPT={port} WINDOW=64240 SYN URGP=0\n"
        for port in ports
    )


def _scan_alerts(bastion: Run) -> set[tuple[str, str]]:
    alerts = json.loads(bastion("alerts", "list", "--json").stdout)
    return {(a["org"], a["host"]) for a in alerts if a["key"].startswith("builtin:port-scan:")}


def test_an_organisations_own_port_scan_threshold_applies_at_ingest(
    bastion: Run, tmp_path: Path
) -> None:
    assert bastion("init").exit_code == 0
    for code, network in (("RAL", "10.1.0.0/16"), ("RJ1", "10.2.0.0/16")):
        added = bastion("orgs", "add", code, f"Trust {code}", "--type", "trust", "-n", network)
        assert added.exit_code == 0, added.output
    tuned = bastion("rules", "set-threshold", "builtin:port-scan", "ports", "20", "--org", "ral")
    assert tuned.exit_code == 0, tuned.output
    assert "threshold ports set to 20 for RAL" in tuned.stdout
    log = tmp_path / "fw.log"
    log.write_text(
        _probes("10.1.0.5", range(1, 31))  # RAL: 30 ports, past its own 20
        + _probes("10.1.0.6", range(1, 16))  # RAL: 15 ports, short of 20
        + _probes("10.2.0.5", range(1, 31))  # RJ1: 30 ports, short of the national 50
        + _probes("10.2.0.6", range(1, 61))  # RJ1: 60 ports, past the national 50
    )
    ingested = bastion("boundary", "ingest", str(log), "--format", "iptables")
    assert ingested.exit_code == 0, ingested.output
    assert _scan_alerts(bastion) == {("RAL", "10.1.0.5"), ("RJ1", "10.2.0.6")}


def test_thresholds_are_listed_shown_set_and_cleared_audited(bastion: Run) -> None:
    assert bastion("init").exit_code == 0
    assert bastion("orgs", "add", "RAL", "Royal Free", "--type", "trust").exit_code == 0

    def thresholds(*org: str) -> dict[str, list[dict[str, Any]]]:
        listed = json.loads(bastion("rules", "list", "--json", *org).stdout)
        return {r["id"]: r["thresholds"] for r in listed if r.get("builtin")}

    national = thresholds()
    assert national["builtin:log4shell-probe"] == []
    (ports,) = national["builtin:port-scan"]
    assert (ports["name"], ports["value"], ports["national"], ports["default"]) == (
        "ports",
        50,
        50,
        50,
    )
    assert national["builtin:exfiltration"][0]["value"] == 1 << 30
    assert bastion("rules", "set-threshold", "builtin:port-scan", "ports", "40").exit_code == 0
    assert bastion("rules", "set-threshold", "builtin:port-scan", "ports", "20", "-o", "RAL").exit_code == 0  # fmt: skip
    (ral,) = thresholds("--org", "RAL")["builtin:port-scan"]
    assert (ral["org"], ral["value"], ral["national"], ral["per_org"]) == (
        "RAL",
        20,
        40,
        {"RAL": 20},
    )
    assert thresholds()["builtin:port-scan"][0]["value"] == 40
    table = bastion("rules", "list", "--org", "RAL").stdout
    assert "ports=20" in table
    shown = bastion("rules", "show", "builtin:port-scan", "--org", "RAL")
    assert "threshold ports: 20 distinct ports for RAL (national 40, default 50" in shown.stdout
    assert json.loads(bastion("rules", "show", "builtin:port-scan", "--json").stdout)[
        "thresholds"
    ][0]["value"] == 40  # fmt: skip

    cleared = bastion("rules", "clear-threshold", "builtin:port-scan", "ports", "--org", "RAL")
    assert cleared.exit_code == 0, cleared.output
    assert thresholds("--org", "RAL")["builtin:port-scan"][0]["value"] == 40
    trail = json.loads(bastion("audit", "list", "--action", "rule.threshold", "--json").stdout)
    assert [(e["action"], e["target"], e["org"], e["before"], e["after"]) for e in reversed(trail)] == [
        ("rule.threshold.set", "rule:builtin:port-scan", None, {"name": "ports", "value": None}, {"name": "ports", "value": 40}),
        ("rule.threshold.set", "rule:builtin:port-scan", "RAL", {"name": "ports", "value": None}, {"name": "ports", "value": 20}),
        ("rule.threshold.clear", "rule:builtin:port-scan", "RAL", {"name": "ports", "value": 20}, {"name": "ports", "value": None}),
    ]  # fmt: skip


def test_threshold_errors_say_what_is_wrong_and_change_nothing(bastion: Run) -> None:
    assert bastion("init").exit_code == 0
    cases = {
        ("builtin:port-scan", "ports", "1"): "must be from 2 to 65,536 distinct ports, not 1",
        ("builtin:port-scan", "ports", "70000"): "must be from 2 to 65,536",
        ("builtin:exfiltration", "bytes", "1000"): "must be from 1,048,576 to",
        ("builtin:port-scan", "bytes", "60"): "has no threshold 'bytes'; it has: ports",
        ("builtin:log4shell-probe", "x", "5"): "has no threshold to tune",
        ("no-such-rule", "ports", "5"): "has no threshold to tune",
    }
    for words, reason in cases.items():
        refused = bastion("rules", "set-threshold", *words)
        assert refused.exit_code != 0
        assert reason in refused.stderr, refused.stderr
    unknown_org = bastion(
        "rules", "set-threshold", "builtin:port-scan", "ports", "20", "-o", "ZZZ9"
    )
    assert unknown_org.exit_code != 0
    assert "ZZZ9" in unknown_org.stderr
    assert bastion("rules", "show", "no-such-rule").exit_code != 0
    assert json.loads(bastion("audit", "list", "--action", "rule.", "--json").stdout) == []
