"""The JSON Schema every framework library is validated against before it is read."""

from __future__ import annotations

from typing import Any


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    """Return the schema of an object of exactly ``properties``, the ``required`` ones required."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


def _array(items: Any) -> dict[str, Any]:
    """Return the schema of a list of at least one of ``items``."""
    return {"type": "array", "minItems": 1, "items": items}


_TEXT = {"type": "string", "minLength": 1}
_ID = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"}
_CLAUSE = {
    "type": "object",
    "additionalProperties": False,
    "oneOf": [
        {"required": ["category", "quantifier"]},
        {"required": ["fact"]},
    ],
    "properties": {
        "category": _TEXT,
        "quantifier": {"enum": ["all", "any", "none"]},
        "fact": {"type": "string", "pattern": r"^[a-z_]+$"},
    },
}
_ORDERED = _object(
    ["kind", "steps", "otherwise"],
    kind={"const": "ordered"},
    steps=_array(_object(["when", "status"], when=_array(_CLAUSE), status=_TEXT)),
    otherwise=_TEXT,
)
_TABLE = _object(
    ["kind", "categories", "table"],
    kind={"const": "table"},
    categories=_array(_TEXT),
    table={
        "type": "object",
        "propertyNames": {"pattern": r"^(all|some|none)(_(all|some|none))*$"},
        "additionalProperties": _TEXT,
    },
    messages={"type": "object", "additionalProperties": {"type": "string"}},
)
_STATEMENT = _object(
    ["id", "text", "category"],
    id=_ID,
    text=_TEXT,
    category=_TEXT,
    auto_fail={"type": "boolean"},
)
_OUTCOME = _object(
    ["id", "title", "statements"],
    id=_ID,
    title=_TEXT,
    text={"type": "string"},
    profile={"type": "object", "additionalProperties": _TEXT},
    maps={"type": "array", "items": {"type": "string", "pattern": r"^[a-z0-9-]+:.+$"}},
    statements=_array(_STATEMENT),
)


def _level(child: str, items: dict[str, Any]) -> dict[str, Any]:
    return _object(
        ["id", "title", child],
        id=_ID,
        title=_TEXT,
        text={"type": "string"},
        **{child: _array(items)},
    )


LIBRARY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Bastion framework library",
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "key", "version", "title", "kind", "statuses", "outcome_rule"],
    "properties": {
        "format": {"const": "bastion-framework/1"},
        "key": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{1,39}$"},
        "version": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$"},
        "title": _TEXT,
        "kind": {"enum": ["caf", "dspt", "cyber-essentials"]},
        "source": {"type": "object"},
        "statuses": {"type": "array", "minItems": 2, "items": _TEXT, "uniqueItems": True},
        "profiles": {"type": "object", "additionalProperties": {"enum": ["baseline", "enhanced"]}},
        "outcome_rule": {"oneOf": [_ORDERED, _TABLE]},
        "return_statuses": {"type": "array", "items": _TEXT, "uniqueItems": True},
        "return_rule": _ORDERED,
        "objectives": _array(_level("principles", _level("outcomes", _OUTCOME))),
    },
}
