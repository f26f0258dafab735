"""`bastion hunt`: ECS names with dots, the column list, one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable

from typer.testing import Result

from bastion.core.events import ARCHIVE_SCHEMA

Run = Callable[..., Result]


def test_an_unquoted_ecs_name_says_to_quote_it(bastion: Run) -> None:
    done = bastion("hunt", "SELECT source.ip, count(*) FROM events GROUP BY 1")
    assert done.exit_code == 1
    [line] = done.stderr.splitlines()
    assert 'ECS names with dots need double quotes, "source.ip"' in line
    assert "bastion hunt --columns" in line


def test_columns_lists_the_archive_columns_with_their_types(bastion: Run) -> None:
    listed = json.loads(bastion("hunt", "--columns", "--json").stdout)
    assert [c["name"] for c in listed] == [*ARCHIVE_SCHEMA, "day", "org"]
    types = {c["name"]: c["type"] for c in listed}
    assert types["@timestamp"] == "TIMESTAMP WITH TIME ZONE"
    assert types["source.port"] == "INTEGER"
    assert types["day"] == types["org"] == "VARCHAR"
    table = bastion("hunt", "--columns").stdout
    assert "destination.ip" in table
    assert "VARCHAR" in table


def test_a_hunt_needs_a_query_or_columns(bastion: Run) -> None:
    done = bastion("hunt")
    assert done.exit_code == 1
    assert done.stderr.strip() == (
        "bastion: error: give one SELECT over `events`, or --columns to list its columns"
    )
