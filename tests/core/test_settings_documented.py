"""Every setting is documented in the README's configuration table (as datasette checks its own)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_origin

import pytest

from bastion.core.settings import ENV_PREFIX, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _configuration_section() -> str:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Configuration\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert section is not None, "README.md has no '## Configuration' section"
    return section.group(1)


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_is_documented_in_the_readme(name: str) -> None:
    section = _configuration_section()
    rows = [line for line in section.splitlines() if line.startswith("|")]
    row = next((r for r in rows if f"`{name}`" in r.split("|")[1]), None)
    assert row is not None, f"setting {name!r} is missing from README.md's configuration table"
    if get_origin(Settings.model_fields[name].annotation) is not dict:  # a table: bastion.toml only
        assert f"`{ENV_PREFIX}{name.upper()}`" in row, (
            f"{name}: the row names no environment variable"
        )
