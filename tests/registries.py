"""Read a registry's literal from its module's source, to check the registry is built from it."""

from __future__ import annotations

import ast
import inspect
from types import ModuleType


def literal_names(module: ModuleType, variable: str) -> tuple[str, ...]:
    """Return the names in ``variable = Registry("kind", (("name", …), …))`` in ``module``.

    Fails unless the module assigns ``variable`` exactly once, to a ``Registry`` call
    whose entries are one literal tuple of ``(string, implementation)`` pairs.
    """
    tree = ast.parse(inspect.getsource(module))
    calls = [
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign | ast.Assign)
        and variable
        in [t.id for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(t, ast.Name)]
    ]  # fmt: skip
    assert len(calls) == 1, f"{module.__name__}.{variable} is assigned {len(calls)} times"
    call = calls[0]
    assert isinstance(call, ast.Call), f"{module.__name__}.{variable} is not a call"
    assert isinstance(call.func, ast.Name), f"{module.__name__}.{variable} is not Registry(…)"
    assert call.func.id == "Registry", f"{module.__name__}.{variable} is not Registry(…)"
    entries = call.args[1]
    assert isinstance(entries, ast.Tuple), f"{module.__name__}.{variable} is not one literal"
    names = []
    for entry in entries.elts:
        assert isinstance(entry, ast.Tuple), f"{module.__name__}.{variable}: {ast.unparse(entry)}"
        key = entry.elts[0]
        assert isinstance(key, ast.Constant), f"{module.__name__}.{variable}: {ast.unparse(key)}"
        assert isinstance(key.value, str)
        names.append(key.value)
    return tuple(names)
