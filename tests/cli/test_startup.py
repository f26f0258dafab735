"""`bastion --help` stays quick: building the command tree imports none of the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What a command may load when it runs, never at start-up.
HEAVY = (
    "polars",
    "pyarrow",
    "duckdb",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "numpy",
    "sigma",
    "rich",
)

PROBE = """
import json, sys
from typer.main import get_command
from bastion.cli.main import app
command = get_command(app)  # every command's signature resolved, as --help does
try:
    command.main(["--help"], prog_name="bastion")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""


def test_help_imports_no_heavy_library() -> None:
    probe = PROBE.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"imported at start-up: {loaded}; import them inside the command"


@pytest.mark.parametrize("args", [["version"], ["version", "--json"]])
def test_version_prints_the_package_version(args: list[str]) -> None:
    from importlib.metadata import version

    done = subprocess.run(
        [sys.executable, "-c", "from bastion.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    expected = version("bastion")
    if "--json" in args:
        assert json.loads(done.stdout) == {"version": expected}
    else:
        assert done.stdout == f"{expected}\n"
