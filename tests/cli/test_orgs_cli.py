from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Run = Callable[..., Result]


def test_commands_before_init_say_to_run_init(bastion: Run) -> None:
    result = bastion("orgs", "list")
    assert result.exit_code != 0
    assert "run `bastion init` first" in result.stderr
    assert "Traceback" not in result.output


def test_add_list_show_as_json(bastion: Run) -> None:
    assert bastion("init").exit_code == 0
    assert bastion("orgs", "add", "QOP", "Greater Manchester ICB", "--type", "icb").exit_code == 0
    added = bastion(
        "orgs",
        "add",
        "R0A",
        "Manchester FT",
        "--parent",
        "QOP",
        "-n",
        "10.1.0.0/16",
        "--host",
        "www.mft.nhs.uk",
    )
    assert added.exit_code == 0, added.output
    listed = json.loads(bastion("orgs", "list", "--json").stdout)
    assert [o["code"] for o in listed] == ["QOP", "R0A"]
    shown = json.loads(bastion("orgs", "show", "r0a", "--json").stdout)
    assert shown["parent"] == "QOP"
    assert shown["networks"] == ["10.1.0.0/16"]
    assert shown["hosts"][0]["hostname"] == "www.mft.nhs.uk"


def test_errors_are_one_line_with_non_zero_exit(bastion: Run) -> None:
    bastion("init")
    missing = bastion("orgs", "show", "ZZZ")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "bastion: error: no organisation with code 'ZZZ'"
    bastion("orgs", "add", "R0A", "Manchester FT")
    duplicate = bastion("orgs", "add", "R0A", "Again")
    assert duplicate.exit_code == 1
    assert "R0A already exists" in duplicate.stderr
    bad_cidr = bastion("orgs", "add-network", "R0A", "300.1.0.0/16")
    assert bad_cidr.exit_code == 1
    assert "invalid CIDR '300.1.0.0/16'" in bad_cidr.stderr


def test_bad_setting_is_reported_with_its_name(
    bastion: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASTION_WEB_PORT", "not-a-port")
    result = bastion("init")
    assert result.exit_code == 2
    assert "invalid setting 'web_port'" in result.stderr


def test_import_export_round_trip(bastion: Run, tmp_path: Path, shared_data: Path) -> None:
    bastion("init")
    imported = bastion(
        "orgs",
        "import",
        str(shared_data / "assurance" / "dspt-trusts-snapshot-2023-11-16.csv"),
        "--json",
    )
    assert json.loads(imported.stdout)["by_type"]["trust"] == 211
    out = tmp_path / "export.csv"
    assert bastion("orgs", "export", "-o", str(out)).exit_code == 0
    assert len(out.read_text().splitlines()) == 1 + 211 + 42 + 7
    trusts = json.loads(bastion("orgs", "list", "--type", "trust", "--json").stdout)
    assert len(trusts) == 211


def test_import_of_a_bad_file_names_line_and_field(bastion: Run, tmp_path: Path) -> None:
    bastion("init")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,type\nR0A,Good,trust\nR0B,Bad,castle\n")
    result = bastion("orgs", "import", str(bad))
    assert result.exit_code == 1
    assert "bad.csv, line 3, field 'type': unknown organisation type 'castle'" in result.stderr
    assert json.loads(bastion("orgs", "list", "--json").stdout) == []


def test_add_contact_and_host_show_up(bastion: Run) -> None:
    bastion("init")
    bastion("orgs", "add", "R0A", "Manchester FT")
    added = bastion(
        "orgs", "add-contact", "R0A", "Ada Lovelace", "ada@mft.nhs.uk", "--role", "CISO"
    )
    assert added.exit_code == 0, added.output
    assert bastion("orgs", "add-host", "R0A", "vpn.mft.nhs.uk").exit_code == 0
    shown = json.loads(bastion("orgs", "show", "R0A", "--json").stdout)
    assert shown["contacts"] == [
        {"name": "Ada Lovelace", "email": "ada@mft.nhs.uk", "role": "CISO"}
    ]
    assert [h["hostname"] for h in shown["hosts"]] == ["vpn.mft.nhs.uk"]
