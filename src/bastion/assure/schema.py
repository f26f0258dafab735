"""The JSON Schema every framework library is validated against before it is read."""

from __future__ import annotations

from typing import Any

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
_ORDERED = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "steps", "otherwise"],
    "properties": {
        "kind": {"const": "ordered"},
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["when", "status"],
                "properties": {
                    "when": {"type": "array", "minItems": 1, "items": _CLAUSE},
                    "status": _TEXT,
                },
            },
        },
        "otherwise": _TEXT,
    },
}
_TABLE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "categories", "table"],
    "properties": {
        "kind": {"const": "table"},
        "categories": {"type": "array", "minItems": 1, "items": _TEXT},
        "table": {
            "type": "object",
            "propertyNames": {"pattern": r"^(all|some|none)(_(all|some|none))*$"},
            "additionalProperties": _TEXT,
        },
        "messages": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
_STATEMENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "text", "category"],
    "properties": {
        "id": _ID,
        "text": _TEXT,
        "category": _TEXT,
        "auto_fail": {"type": "boolean"},
    },
}
_OUTCOME = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "statements"],
    "properties": {
        "id": _ID,
        "title": _TEXT,
        "text": {"type": "string"},
        "profile": {"type": "object", "additionalProperties": _TEXT},
        "maps": {"type": "array", "items": {"type": "string", "pattern": r"^[a-z0-9-]+:.+$"}},
        "statements": {"type": "array", "minItems": 1, "items": _STATEMENT},
    },
}


def _level(child: str, items: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "title", child],
        "properties": {
            "id": _ID,
            "title": _TEXT,
            "text": {"type": "string"},
            child: {"type": "array", "minItems": 1, "items": items},
        },
    }


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
        "objectives": {
            "type": "array",
            "minItems": 1,
            "items": _level("principles", _level("outcomes", _OUTCOME)),
        },
    },
}
