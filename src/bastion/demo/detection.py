"""Bastion's own small set of Sigma rules for the demo day: they fire on its planted attacks.

``sigma/`` holds them: a Log4Shell probe rule (webserver), a denied-connection rule used
only by a port scan correlation (value_count of destination ports per source and target).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

RULES = files("bastion.demo").joinpath("sigma")


def demo_rule_texts() -> dict[str, str]:
    """Return the demo rules by file name."""
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(RULES.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yml")
    }


def install_demo_rules(folder: Path) -> list[Path]:
    """Write the demo rules into ``folder`` unless it already holds rules; return what was written.

    A rules folder someone has filled is theirs: nothing in it is replaced.
    """
    if folder.is_dir() and any(folder.glob("*.y*ml")):
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in demo_rule_texts().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
