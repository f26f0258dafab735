"""The organisation CSV formats are one literal; the CLI accepts exactly those."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Run
from tests.registries import literal_names

from bastion import orgs
from bastion.orgs import csvio


def test_the_organisation_formats_are_built_from_one_literal() -> None:
    assert orgs.FORMATS.names() == literal_names(csvio, "FORMATS")


def test_an_unknown_organisation_format_is_refused_naming_the_registered_ones(
    bastion: Run, tmp_path: Path
) -> None:
    assert bastion("init").exit_code == 0
    table = tmp_path / "orgs.csv"
    table.write_text("code,name,type\nR0A,Trust,trust\n", encoding="utf-8")
    refused = bastion("orgs", "import", str(table), "--format", "nope")
    assert refused.exit_code == 1
    assert f"unknown format 'nope'; choose one of {', '.join(orgs.FORMATS)}" in refused.stderr
    assert orgs.FORMATS.names() == ("bastion", "dspt-icb", "dspt-trusts")
    assert bastion("orgs", "import", str(table), "--format", "bastion").exit_code == 0
