"""`bastion serve`: refuses before `bastion init`, prints the console URL, runs the app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import Result
from fastapi import FastAPI
from typer.testing import CliRunner

from bastion.cli import context
from bastion.cli.main import app

Run = Callable[..., Result]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what uvicorn would run instead of binding a port."""
    calls: list[dict[str, Any]] = []

    def fake_run(asgi: Any, **options: Any) -> None:
        calls.append({"app": asgi, **options})

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


@pytest.fixture
def bastion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """Run `bastion ARGS…` in-process against a fresh data directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    for name in ("BASTION_DATABASE_URL", "BASTION_WEB_HOST", "BASTION_WEB_PORT", "BASTION_CONFIG"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> Result:
        context.settings.cache_clear()
        context.store.cache_clear()
        return CliRunner().invoke(app, list(args), catch_exceptions=False)

    yield run
    context.settings.cache_clear()
    context.store.cache_clear()


def test_serve_before_init_refuses_with_one_line(
    bastion: Run, served: list[dict[str, Any]]
) -> None:
    result = bastion("serve")
    assert result.exit_code != 0
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("bastion: error: database ")
    assert "run `bastion init` first" in result.stderr
    assert "Bastion console" not in result.stdout
    assert served == []


def test_serve_prints_the_url_first_and_runs_on_the_settings_address(
    bastion: Run, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bastion("init").exit_code == 0
    monkeypatch.setenv("BASTION_WEB_PORT", "8765")
    result = bastion("serve")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "Bastion console: http://127.0.0.1:8765"
    [call] = served
    assert isinstance(call["app"], FastAPI)
    assert (call["host"], call["port"]) == ("127.0.0.1", 8765)


def test_serve_host_and_port_options_override_the_settings(
    bastion: Run, served: list[dict[str, Any]]
) -> None:
    bastion("init")
    result = bastion("serve", "--host", "::1", "--port", "9001")
    assert result.stdout.splitlines()[0] == "Bastion console: http://[::1]:9001"
    assert (served[0]["host"], served[0]["port"]) == ("::1", 9001)


def test_serve_rejects_a_port_out_of_range(bastion: Run, served: list[dict[str, Any]]) -> None:
    bastion("init")
    result = bastion("serve", "--port", "70000")
    assert result.exit_code == 2
    assert served == []
