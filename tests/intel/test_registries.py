"""Feed types and indicator file formats are one literal each; the CLI and API accept exactly those."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import Run
from tests.registries import literal_names

from bastion.cli import intel as intel_cli
from bastion.core.errors import InputError
from bastion.intel import feeds
from bastion.intel.feeds import registry
from bastion.web.api import intel as intel_api


def test_the_feed_types_are_built_from_one_literal_naming_each_type_as_it_names_itself() -> None:
    assert feeds.FEED_TYPES.names() == literal_names(registry, "FEED_TYPES")
    assert [t.name for t in feeds.FEED_TYPES.values()] == list(feeds.FEED_TYPES.names())


def test_the_cli_lists_the_feed_types_and_any_other_is_refused_naming_them(bastion: Run) -> None:
    listed = json.loads(bastion("intel", "feeds", "types", "--json").stdout)
    assert list(listed) == sorted(feeds.FEED_TYPES.names())
    with pytest.raises(InputError, match=f"choose one of {', '.join(feeds.FEED_TYPES)}$"):
        feeds.get_feed_type("nope")
    assert feeds.get_feed_type(" STIX ") is feeds.FEED_TYPES.get("stix")


def test_the_file_formats_are_built_from_one_literal_that_the_cli_and_api_accept() -> None:
    assert feeds.FILE_FORMATS.names() == literal_names(registry, "FILE_FORMATS")
    assert ("auto", *feeds.FILE_FORMATS.names()) == intel_cli.FORMATS
    assert intel_api.FORMATS == intel_cli.FORMATS
    with pytest.raises(InputError, match=f"choose one of {', '.join(intel_cli.FORMATS)}$"):
        intel_api.read_upload(b"evil.example\n", "list.txt", "nope", None)


def test_every_file_format_reads_through_the_registry(bastion: Run, tmp_path: Path) -> None:
    bad = bastion("intel", "import", str(tmp_path / "x.txt"), "--format", "nope")
    assert bad.exit_code == 1
    assert f"choose one of {', '.join(intel_cli.FORMATS)}" in bad.stderr
    fmt, parsed = intel_api.read_upload(
        b'[{"type": "domain", "value": "evil.example"}]', "mine.json", "bastion-json", None
    )
    assert (fmt, [i.value for i in parsed.indicators]) == ("bastion-json", ["evil.example"])
    assert parsed.indicators[0].source == "mine"
    fmt, parsed = intel_api.read_upload(b"evil.example\n", "list.txt", "auto", "feed")
    assert (fmt, [i.value for i in parsed.indicators]) == ("plain", ["evil.example"])
