"""Every CLI error is one line on stderr with a non-zero exit, whichever group it comes from.

The walk goes over the Typer app's own tree, so a new group or command is covered by
construction: a typo'd option, a bad argument, a domain error (``BastionError``) and an
unexpected exception each end as ``bastion: error: …`` on one line; ``--verbose`` adds
the whole story before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.main import get_command

from bastion.cli.main import app
from bastion.core.errors import NotFoundError


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    subs = getattr(command, "commands", None)
    if subs is None:
        yield path
        return
    for name, sub in subs.items():
        yield from _leaves(sub, (*path, name))


ROOT = get_command(app)
LEAVES = sorted(_leaves(ROOT))
GROUPS = sorted(ROOT.commands)  # type: ignore[attr-defined]


def _first_leaf(group: str) -> tuple[str, ...]:
    return next(leaf for leaf in LEAVES if leaf[0] == group)


def _command(root: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        root = root.commands[name]
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str, root: Any = None) -> tuple[int, str]:
    """Run ``bastion ARGS`` as the console script does; return its exit code and stderr."""
    with pytest.raises(SystemExit) as exited:
        (root or get_command(app)).main(list(args), prog_name="bastion")
    code = exited.value.code
    return code if isinstance(code, int) else 1, capsys.readouterr().err


def assert_one_line(code: int, err: str, *wanted: str) -> None:
    assert code != 0
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bastion: error: "), err
    for text in wanted:
        assert text in lines[0], err


def test_the_walk_reaches_every_group() -> None:
    assert {"orgs", "boundary", "intel", "alerts", "hunt", "users", "audit"} <= set(GROUPS)
    assert ("intel", "feeds", "pull") in LEAVES


@pytest.mark.parametrize("leaf", LEAVES, ids=" ".join)
def test_a_typoed_option_is_one_line(
    capsys: pytest.CaptureFixture[str], leaf: tuple[str, ...]
) -> None:
    code, err = run(capsys, *leaf, "--no-such-opton")
    assert_one_line(code, err, "--no-such-opton", f"bastion {' '.join(leaf)} --help")
    assert code == 2


@pytest.mark.parametrize("group", GROUPS)
def test_a_bad_argument_is_one_line(capsys: pytest.CaptureFixture[str], group: str) -> None:
    if group in {"hunt", "serve", "version", "init"}:  # a command: one argument too many
        args: tuple[str, ...] = (group, "--json" if group == "hunt" else "", "a", "b", "c")
        args = tuple(a for a in args if a)
    else:  # a group: a command it does not have
        args = (group, "no-such-command")
    code, err = run(capsys, *args)
    assert_one_line(code, err, f"see `bastion {group}")


def _valid(argument: Any) -> str:
    """A value the argument's type accepts, so the command itself runs."""
    return "1" if argument.type_descriptor.annotation in {int, float} else "x"


@pytest.mark.parametrize("group", GROUPS)
def test_a_domain_error_is_one_line(capsys: pytest.CaptureFixture[str], group: str) -> None:
    root = get_command(app)
    leaf = _first_leaf(group)

    def fail(**_: Any) -> None:
        msg = f"no such thing in {group}\nsecond line of detail"
        raise NotFoundError(msg)

    _command(root, leaf).callback = fail
    required = [p for p in _command(root, leaf).params if p.required]
    args = [*leaf, *(_valid(p) for p in required if p.param_type_name == "argument")]
    for option in (p for p in required if p.param_type_name == "option"):
        args += [option.opts[0], "1"]
    code, err = run(capsys, *args, root=root)
    assert_one_line(code, err, f"no such thing in {group} second line of detail")
    assert code == NotFoundError.exit_code


@pytest.mark.parametrize("group", GROUPS)
def test_an_unexpected_exception_is_one_line(
    capsys: pytest.CaptureFixture[str], group: str
) -> None:
    root = get_command(app)
    leaf = _first_leaf(group)

    def crash(**_: Any) -> None:
        msg = "a bug"
        raise RuntimeError(msg)

    _command(root, leaf).callback = crash
    required = [p for p in _command(root, leaf).params if p.required]
    args = [*leaf, *(_valid(p) for p in required if p.param_type_name == "argument")]
    for option in (p for p in required if p.param_type_name == "option"):
        args += [option.opts[0], "1"]
    code, err = run(capsys, *args, root=root)
    assert_one_line(code, err, "unexpected RuntimeError: a bug", "--verbose")
    assert "Traceback" not in err
    verbose_code, verbose_err = run(capsys, "--verbose", *args, root=root)
    assert verbose_code == code
    assert "Traceback (most recent call last)" in verbose_err
    assert verbose_err.splitlines()[-1].startswith("bastion: error: unexpected RuntimeError")


def test_a_real_store_error_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bastion.cli import context

    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "nothing"))
    context.settings.cache_clear()
    context.store.cache_clear()
    try:
        code, err = run(capsys, "orgs", "list")
    finally:
        context.settings.cache_clear()
        context.store.cache_clear()
    assert_one_line(code, err, "run `bastion init` first")


def test_a_duckdb_syntax_error_is_one_line_without_its_caret(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bastion.cli import context

    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path))
    context.settings.cache_clear()
    try:
        code, err = run(capsys, "hunt", "SELEC 1 FROM events")
    finally:
        context.settings.cache_clear()
    assert_one_line(code, err, 'syntax error at or near "SELEC"', "LINE 1: SELEC 1 FROM events")
    assert "^" not in err
