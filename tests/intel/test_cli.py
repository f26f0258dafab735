from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Run = Callable[..., Result]


@pytest.fixture
def bastion(bastion: Run) -> Run:
    """The `bastion` command against a fresh data directory, initialised."""
    assert bastion("init").exit_code == 0
    return bastion


FEED = """\
type,value,source,severity,action,threat
domain,Evil.Example.,abuse.ch,high,block,Emotet
,192.0.2.1,misp,low,alert,
domain,evil.example,misp,medium,alert,
"""


def test_import_list_and_show(bastion: Run, tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(FEED, encoding="utf-8")
    imported = bastion("intel", "import", str(feed))
    assert imported.exit_code == 0, imported.output
    assert "3 created, 0 updated (2 domain, 1 ipv4)" in imported.output

    again = bastion("intel", "import", str(feed), "--json")
    assert json.loads(again.stdout) == {
        "file": str(feed),
        "read": 3,
        "created": 0,
        "updated": 3,
        "by_type": {"domain": 2, "ipv4": 1},
    }

    listed = bastion("intel", "list", "--type", "domain", "--json")
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["source"]) for r in rows] == [
        ("domain:evil.example", "abuse.ch"),
        ("domain:evil.example", "misp"),
    ]
    table = bastion("intel", "list", "--search", "emotet")
    assert "evil.example" in table.stdout
    assert "192.0.2.1" not in table.stdout

    shown = bastion("intel", "show", "domain:EVIL.example")
    assert shown.exit_code == 0
    assert "abuse.ch: high, confidence 50, block, TLP:AMBER  threat: Emotet" in shown.stdout
    assert "created (misp): imported from feed.csv" in shown.stdout
    assert "misp: medium" in shown.stdout


def test_bad_file_imports_nothing_and_says_where(bastion: Run, tmp_path: Path) -> None:
    feed = tmp_path / "bad.csv"
    feed.write_text("value\nok.example\n192.0.2.999/8\n", encoding="utf-8")
    result = bastion("intel", "import", str(feed))
    assert result.exit_code == 1
    assert f"{feed}, line 3, field 'value'" in result.stderr
    assert json.loads(bastion("intel", "list", "--json").stdout) == []


def test_show_unknown_indicator_fails_cleanly(bastion: Run) -> None:
    result = bastion("intel", "show", "domain:absent.example")
    assert result.exit_code == 1
    assert "no indicator domain:absent.example" in result.stderr


def test_import_detects_stix_and_plain_lists(bastion: Run, tmp_path: Path) -> None:
    from .test_feeds import stix_bundle

    bundle = tmp_path / "cti.json"
    bundle.write_bytes(stix_bundle())
    listed = tmp_path / "drop.txt"
    listed.write_text("; DROP\n192.0.2.0/24 ; SBL1\nnot a value at all\n", encoding="utf-8")
    stix = json.loads(bastion("intel", "import", str(bundle), "--json").stdout)
    plain = bastion("intel", "import", str(listed), "-o", "tlp=clear", "--json")
    assert (stix["format"], stix["created"], stix["skipped"]) == ("stix", 6, 3)
    report = json.loads(plain.stdout)
    assert (report["format"], report["created"], report["skipped"]) == ("plain", 1, 1)
    shown = json.loads(bastion("intel", "show", "cidr:192.0.2.0/24", "--json").stdout)
    assert shown["listings"][0]["tlp"] == "CLEAR"
    assert shown["listings"][0]["source"] == "drop"


def test_feeds_policies_devices_allow_and_retrohunt_commands(bastion: Run, tmp_path: Path) -> None:
    added = bastion("intel", "feeds", "add", "drop", "plain", "http://127.0.0.1:9/drop.txt",
                    "--interval", "6h", "--json")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["interval_seconds"] == 6 * 3600
    # Port 9 (discard) refuses: the pull fails, is recorded, and the command exits non-zero.
    pulled = bastion("intel", "feeds", "pull", "drop", "--json")
    assert pulled.exit_code == 1
    assert json.loads(pulled.stdout)[0]["status"] == "failed"
    history = json.loads(bastion("intel", "feeds", "history", "drop", "--json").stdout)
    assert [p["status"] for p in history] == ["failed"]
    assert bastion("intel", "feeds", "add", "x", "plain", "ftp://x/", "--json").exit_code == 1
    assert bastion("intel", "feeds", "add", "x", "plain", "http://x/", "-i", "soon").exit_code == 1

    feed = tmp_path / "feed.csv"
    feed.write_text(
        "type,value,action,confidence,tlp\nipv4,198.51.100.1,block,90,GREEN\n"
        "ipv4,10.20.0.5,block,90,GREEN\n",
        encoding="utf-8",
    )
    assert bastion("intel", "import", str(feed)).exit_code == 0
    assert bastion("intel", "allow", "add", "10.20.0.0/16", "-r", "our range").exit_code == 0
    assert bastion("intel", "policies", "add", "fw", "--min-confidence", "80").exit_code == 0
    shown = bastion("intel", "policies", "show", "fw", "--list", "ip")
    assert shown.stdout == "198.51.100.1\n"
    device = json.loads(bastion("intel", "devices", "add", "fw1", "-p", "fw", "--json").stdout)
    assert device["token"].startswith("bst_")
    assert bastion("intel", "devices", "revoke", "fw1").exit_code == 0
    devices = json.loads(bastion("intel", "devices", "list", "--json").stdout)
    assert devices[0]["revoked_at"] is not None

    expired = bastion("intel", "expire", "ipv4:198.51.100.1", "--reason", "sinkholed")
    assert expired.exit_code == 0
    assert bastion("intel", "policies", "show", "fw").stdout == ""
    hunted = json.loads(bastion("intel", "retrohunt", "--days", "7", "--json").stdout)
    assert (hunted["days"], hunted["alerts"]) == (7, 0)
    both = bastion("intel", "feeds", "pull", "drop", "--retrohunt", "--json")
    assert json.loads(both.stdout)["retrohunt"]["since"] is not None  # since the last run
    assert json.loads(bastion("intel", "sightings", "--json").stdout) == []
