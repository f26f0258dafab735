"""Every command documents itself: `--help` explains each command, group, option and argument.

The README is a guide to the main paths, not a reference of 99 commands; `--help` is where
a user looks up a command, so that is what must never be blank.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.main import get_command

from bastion.cli.main import app


def _commands(command: Any, path: tuple[str, ...] = ("bastion",)) -> Iterator[tuple[str, Any]]:
    yield " ".join(path), command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(get_command(app)))


def test_the_walk_reaches_every_group_and_leaf() -> None:
    assert {"bastion orgs list", "bastion intel feeds pull", "bastion version"} <= set(COMMANDS)
    assert len(COMMANDS) > 90


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_command_and_its_parameters_have_help(path: str) -> None:
    command = COMMANDS[path]
    assert (command.help or "").strip(), f"`{path} --help` says nothing: give it a docstring"
    undocumented = [
        param.name
        for param in command.params
        if param.name != "help" and not (getattr(param, "help", None) or "").strip()
    ]
    assert not undocumented, f"`{path} --help` leaves {undocumented} unexplained"
