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
    assert "abuse.ch: high, confidence 50, block  threat: Emotet" in shown.stdout
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
