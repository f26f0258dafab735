"""Intelligence and inventory formats are one literal each; the CLI accepts exactly those."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import Run
from tests.registries import literal_names

from bastion import advisories
from bastion.advisories import importers, inventory
from bastion.core.errors import InputError


def test_the_intelligence_formats_are_built_from_one_literal() -> None:
    assert advisories.INTEL_FORMATS.names() == literal_names(importers, "INTEL_FORMATS")
    assert advisories.INTEL_FORMATS.get("kev") is importers.parse_kev


def test_the_inventory_formats_are_built_from_one_literal() -> None:
    assert advisories.INVENTORY_FORMATS.names() == literal_names(inventory, "INVENTORY_FORMATS")
    assert advisories.INVENTORY_FORMATS.get("csv") is inventory.parse_csv


def test_an_unknown_intelligence_format_is_refused_naming_the_registered_ones(
    bastion: Run, tmp_path: Path
) -> None:
    names = ", ".join(advisories.INTEL_FORMATS)
    with pytest.raises(
        InputError, match=f"^unknown intelligence format 'nope'; choose one of {names}$"
    ):
        advisories.parse_intel(b"{}", "x.json", "nope")
    assert bastion("init").exit_code == 0
    document = tmp_path / "osv.json"
    document.write_text("{}", encoding="utf-8")
    refused = bastion("advisories", "import", str(document), "--format", "nope")
    assert refused.exit_code == 1
    assert f"unknown intelligence format 'nope'; choose one of {names}" in refused.stderr
