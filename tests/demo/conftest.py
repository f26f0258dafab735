"""The demo tests' throw-away data directories, and one demo built for the tests that read it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import bastion_in

from bastion.cli import context
from bastion.cli import demo as demo_cli


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A throw-away data directory the CLI, run in-process, uses."""
    context.settings.cache_clear()  # what an earlier test left is not this test's
    context.store.cache_clear()
    with bastion_in(tmp_path, monkeypatch):
        yield tmp_path / "data"


@dataclass(frozen=True)
class BuiltDemo:
    """A folder where `bastion init --demo` ran once, and what that run printed."""

    home: Path
    output: str

    @property
    def data_dir(self) -> Path:
        return self.home / "data"


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> BuiltDemo:
    """`bastion init --demo` of the small federation and a 5,000-event day, run once a
    session (once per xdist worker, in a folder of its own). The tests that use it read
    it, or run commands in it that must change nothing."""
    home = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch, bastion_in(home, patch) as run:
        patch.setattr(demo_cli, "INIT_SIZE", "small")
        patch.setattr(demo_cli, "DEMO_DAY_EVENTS", 5_000)
        first = run("init", "--demo")
    assert first.exit_code == 0, first.output
    return BuiltDemo(home, first.output)
