"""Remediation text for each kind of finding, written for the IT lead of a GP practice.

One Jinja template per kind (``<name>.txt.j2`` beside this module), rendered with
the finding's parameters, host and port. The text says what the problem is in
plain words, why it matters to a practice, and what to ask the supplier or do.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

_HERE = Path(__file__).parent


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(_HERE),
        undefined=StrictUndefined,
        autoescape=False,  # plain text; the console escapes it when it shows it
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_names() -> tuple[str, ...]:
    """Return the names of every remediation template."""
    return tuple(sorted(p.name.removesuffix(".txt.j2") for p in _HERE.glob("*.txt.j2")))


def render(name: str, *, host: str, port: int, params: dict[str, Any]) -> str:
    """Return the remediation text ``name`` for a finding on ``host``:``port``."""
    try:
        template = _environment().get_template(f"{name}.txt.j2")
    except TemplateNotFound:
        msg = f"no remediation template {name!r}; the templates are {', '.join(template_names())}"
        raise LookupError(msg) from None
    return template.render(host=host, port=port, **params).strip()
