"""The contexts keep to their own private names.

import-linter (``make lint``) checks the layers and private *modules*; it sees
modules only, so this test checks the private *names* (``_helper``) it cannot.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bastion

SRC = Path(bastion.__file__).parent


def _context(module: str) -> str:
    """Return the context a dotted module name belongs to ("bastion.intel.index" → "intel")."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def private_imports_across_contexts(root: Path) -> list[str]:
    """Return ``file:line name from module`` for each private name imported from another context."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(("bastion", *path.relative_to(root).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if not node.module.startswith("bastion.") or _context(node.module) == _context(module):
                continue
            found += [
                f"{path.relative_to(root)}:{node.lineno} {alias.name} from {node.module}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
    return found


def test_no_context_imports_another_contexts_private_names() -> None:
    assert private_imports_across_contexts(SRC) == []


def test_a_private_name_from_another_context_is_found(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "views.py").write_text(
        "from bastion.advisories.alerts import Target, _current\n"
        "from bastion.web.rendering import _own  # the same context: allowed\n"
    )
    assert private_imports_across_contexts(tmp_path) == [
        "web/views.py:1 _current from bastion.advisories.alerts"
    ]
