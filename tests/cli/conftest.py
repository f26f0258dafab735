from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bastion.cli import context
from bastion.cli.main import app

Run = Callable[..., Result]


@pytest.fixture
def bastion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """Run `bastion ARGS…` in-process against a fresh data directory; returns the click Result."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BASTION_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        context.settings.cache_clear()
        context.store.cache_clear()
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    yield run
    if context.store.cache_info().currsize:
        context.store().dispose()
    context.settings.cache_clear()
    context.store.cache_clear()
