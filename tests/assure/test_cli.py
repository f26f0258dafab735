"""`bastion assure` end to end: frameworks, a return answered, published, exported; the snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from tests.conftest import Run


def ok(result: object) -> str:
    assert getattr(result, "exit_code", 1) == 0, getattr(result, "output", result)
    return str(getattr(result, "stdout", ""))


@pytest.mark.slow
def test_frameworks_returns_score_and_export(
    bastion: Run, shared_data: Path, tmp_path: Path
) -> None:
    ok(bastion("init"))
    ok(bastion("orgs", "add", "RAA", "Alpha Trust", "--type", "trust"))
    for name in ("dspt", "cyber-essentials", str(shared_data / "assurance/ncsc-caf-v4.0.yaml")):
        ok(bastion("assure", "frameworks", "import", name))
    listed = json.loads(ok(bastion("assure", "frameworks", "list", "--json")))
    assert {(f["ref"], f["outcomes"]) for f in listed} == {
        ("cyber-essentials@2025", 5), ("dspt@2024-25", 10), ("ncsc-caf@4.0", 41)}  # fmt: skip
    opened = json.loads(
        ok(
            bastion(
                "assure", "returns", "open", "RAA", "2024-25", "-f", "cyber-essentials", "--json"
            )
        )
    )
    for statement in (
        "fw.1",
        "fw.2",
        "fw.3",
        "sc.1",
        "sc.2",
        "up.1",
        "up.2",
        "mw.1",
        "mw.2",
        "ua.1",
    ):
        ok(bastion("assure", "returns", "answer", str(opened["id"]), statement, "yes"))
    ok(
        bastion(
            "assure",
            "returns",
            "answer",
            str(opened["id"]),
            "ua.2",
            "no",
            "--alternative",
            "PAM vault",
        )
    )
    published = json.loads(ok(bastion("assure", "returns", "publish", str(opened["id"]), "--json")))
    assert (published["state"], published["version"]) == ("published", 1)
    score = json.loads(ok(bastion("assure", "score", "RAA", "--json")))
    # firewalls 3/4, config 2/4, updates 2/3, malware 2/3, access 1/4: the mean, x 100.
    expected = round((3 / 4 + 2 / 4 + 2 / 3 + 2 / 3 + 1 / 4) / 5 * 100, 2)
    assert score["score"] == expected
    assert [value for _, value in score["history"]] == [expected]
    assert "mean of the five" in score["formula"]
    xlsx, pdf = tmp_path / "r.xlsx", tmp_path / "r.pdf"
    ok(bastion("assure", "returns", "export", str(opened["id"]), "-o", str(xlsx)))
    ok(bastion("assure", "returns", "export", str(opened["id"]), "-o", str(pdf)))
    rows = list(load_workbook(xlsx)["Statements"].iter_rows(values_only=True))
    assert rows[1][:3] == ("firewalls", "Firewalls", "Not met")
    assert any(r[10] == "PAM vault" for r in rows)
    assert pdf.read_bytes().startswith(b"%PDF")
    listed_returns = json.loads(ok(bastion("assure", "returns", "list", "--json")))
    assert [r["status"] for r in listed_returns] == [None]  # Cyber Essentials has no return rule


def test_snapshot_import_and_dashboard(bastion: Run, shared_data: Path) -> None:
    ok(bastion("init"))
    out = ok(
        bastion(
            "assure",
            "returns",
            "import",
            str(shared_data / "assurance/dspt-trusts-snapshot-2023-11-16.csv"),
        )
    )
    assert "211 returns for 2022-23" in out
    shown = json.loads(ok(bastion("assure", "dashboard", "--json")))
    assert shown["statuses"] == {"Standards Met": 138, "Approaching Standards": 57, "Standards Exceeded": 15,
                                 "Not Published": 1}  # fmt: skip
