"""The log formats are one literal in ``parsers/registry.py``; the CLI accepts exactly those."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run
from tests.registries import literal_names

from bastion.boundary.parsers import PARSERS, Parser, ecs_json, panos, registry, zeek


def test_the_log_formats_are_built_from_one_literal_naming_each_parser_as_it_names_itself() -> None:
    assert PARSERS.names() == literal_names(registry, "PARSERS")
    assert [p.name for p in PARSERS.values()] == list(PARSERS.names())
    assert all(isinstance(p, Parser) for p in PARSERS.values())


def test_a_parser_declares_its_own_chunk_reader() -> None:
    readers = {name: p.read_chunk for name, p in PARSERS.items() if p.read_chunk is not None}
    assert readers == {
        "ecs": ecs_json.read_ecs,
        "panos": panos.read_panos,
        "zeek": zeek.read_zeek_tsv,
    }
    assert PARSERS.get("zeek") is zeek.TSV_PARSER


def test_the_cli_lists_and_accepts_exactly_the_registered_formats(
    bastion: Run, tmp_path: Path
) -> None:
    listed = [f["name"] for f in json.loads(bastion("boundary", "formats", "--json").stdout)]
    assert listed == sorted(PARSERS.names())
    assert bastion("init").exit_code == 0
    log = tmp_path / "access.log"
    log.write_text("not a log line\n", encoding="utf-8")
    unknown = bastion("boundary", "ingest", str(log), "--format", "nope")
    assert unknown.exit_code == 1
    assert f"unknown log format 'nope'; choose one of {', '.join(PARSERS)}" in unknown.stderr
