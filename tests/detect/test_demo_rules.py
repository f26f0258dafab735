"""Bastion's demo rules: installed by `bastion init --demo`, they fire on the demo day's attacks."""

from __future__ import annotations

from pathlib import Path

from tests.demo.small_day import ingest_small_demo_day

from bastion.alerts import list_alerts
from bastion.demo.detection import demo_rule_texts, install_demo_rules
from bastion.detect import load_ruleset
from bastion.store import Store

LOG4SHELL = "sigma:451b3c28-3fed-4081-aef7-5230e65f58a7"
PORT_SCAN = "sigma:3fcd8676-f0f7-4678-bd5c-21c3b998b912 "
DENIED = "sigma:393476c2-0ece-4684-84ff-b69312d4d00e"


def test_demo_rules_all_compile(tmp_path: Path) -> None:
    written = install_demo_rules(tmp_path / "rules")
    assert sorted(p.name for p in written) == sorted(demo_rule_texts())
    rules = load_ruleset([tmp_path / "rules"])
    assert {r.status.value for r in rules.reports} == {"compiled", "correlation"}
    assert len(rules.rules) == 2
    assert len(rules.correlations) == 1


def test_a_filled_rules_folder_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "mine.yml").write_text("title: mine\n")
    assert install_demo_rules(folder) == []
    assert [p.name for p in folder.iterdir()] == ["mine.yml"]


def test_demo_day_raises_log4shell_and_port_scan_rule_alerts(
    sqlite_store: Store, tmp_path: Path
) -> None:
    manifest = ingest_small_demo_day(sqlite_store, tmp_path)
    with sqlite_store.session() as session:
        alerts = [a for a in list_alerts(session)[0] if a.key.startswith("sigma:")]
    by_kind = {a.kind: a for a in manifest.attacks}
    log4shell = [a for a in alerts if a.key == LOG4SHELL]
    assert len(log4shell) == 1
    web = {
        a.organisation for a in manifest.attacks if a.kind == "log4shell" and a.format == "nginx"
    }
    assert {log4shell[0].org} == web  # the probes in the web server's log (not the PAN-OS one)
    assert "jndi" in (log4shell[0].evidence[0].raw or "")
    scans = [a for a in alerts if a.key.startswith(PORT_SCAN)]
    scan = by_kind["port-scan"]
    assert len(scans) == 1, [a.key for a in scans]  # one scan, one alert (one episode)
    assert scans[0].org == scan.organisation
    assert scans[0].title == "Port scan of a member's host"
    assert not [a for a in alerts if a.key == DENIED]  # used only by the correlation
    # The built-in check and the correlation saw the same denied probes: one group, blocked.
    with sqlite_store.session() as session:
        everything = list_alerts(session)[0]
    at_target = [a for a in everything if (a.org, a.host) == (scan.organisation, scan.host_ip)]
    scan_alerts = [a for a in at_target if "port-scan" in a.key or a.key.startswith(PORT_SCAN)]
    assert sorted(a.key.split(":")[0] for a in scan_alerts) == ["builtin", "sigma"]
    assert len({a.group_id for a in scan_alerts}) == 1
    assert {a.verdict for a in scan_alerts} == {"blocked"}, [
        (a.key, a.verdict) for a in scan_alerts
    ]
