"""One way to print: a list command's table, --json and --csv come from the same columns."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from typer.testing import Result

Run = Callable[..., Result]


def _federation(bastion: Run) -> None:
    assert bastion("init").exit_code == 0
    assert bastion("orgs", "add", "QOP", "Greater Manchester, ICB", "--type", "icb").exit_code == 0
    added = bastion("orgs", "add", "R0A", "Manchester FT", "--parent", "QOP", "-n", "10.1.0.0/16")
    assert added.exit_code == 0, added.output


def test_orgs_list_table_csv_and_json_hold_the_same_rows(bastion: Run) -> None:
    _federation(bastion)
    table = bastion("orgs", "list")
    assert table.stdout.splitlines() == [
        "CODE  TYPE   PARENT  NETWORKS  NAME",
        "QOP   icb            0         Greater Manchester, ICB",
        "R0A   trust  QOP     1         Manchester FT",
    ]
    assert table.stderr == "2 of 2 organisations\n"
    as_csv = bastion("orgs", "list", "--csv")
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["CODE", "TYPE", "PARENT", "NETWORKS", "NAME"],
        ["QOP", "icb", "", "0", "Greater Manchester, ICB"],
        ["R0A", "trust", "QOP", "1", "Manchester FT"],
    ]
    assert as_csv.stderr == ""  # a pipe gets the rows and nothing else
    as_json = json.loads(bastion("orgs", "list", "--json").stdout)
    assert [(o["code"], o["parent"]) for o in as_json] == [("QOP", None), ("R0A", "QOP")]


def test_a_page_says_how_many_of_the_total_it_shows(bastion: Run) -> None:
    _federation(bastion)
    page = bastion("orgs", "list", "--limit", "1")
    assert len(page.stdout.splitlines()) == 2
    assert page.stderr == "1 of 2 organisations\n"


def test_show_prints_the_record_as_text_or_json(bastion: Run) -> None:
    _federation(bastion)
    text = bastion("orgs", "show", "R0A")
    assert text.stdout.splitlines()[:3] == [
        "R0A  Manchester FT",
        "type: trust   parent: QOP   children: 0",
        "networks: 10.1.0.0/16",
    ]
    assert json.loads(bastion("orgs", "show", "R0A", "--json").stdout)["code"] == "R0A"
