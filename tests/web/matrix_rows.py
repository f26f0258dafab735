"""What the tenancy matrix's ``<context>_matrix.py`` modules share: how a row calls its route.

A row's ``build(world, org)`` returns the request to make at organisation ``org``:
``(verb, url, keyword arguments of httpx's request)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Build = Callable[[Any, str], tuple[str, str, dict[str, Any]]]


def get(path: str) -> Build:
    """A row that GETs ``path`` wherever it is called."""
    return lambda _w, _o: ("GET", path, {})
