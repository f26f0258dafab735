"""Read a framework library file: validate it against the schema, return a ``Framework``.

Two formats are read, named in ``LIBRARY_FORMATS``: Bastion's own
(``format: bastion-framework/1``) and WebCAF's CAF files (the NCSC Cyber
Assessment Framework as GOV.UK's WebCAF publishes it), which are first rewritten
into Bastion's format and then validated like any other library.

WebCAF gives outcome rules in two shapes, both kept as data:
- a table keyed ``<achieved>_<partially>_<not>`` where each part says whether
  ``all``, ``some`` or ``none`` of that category's statements were selected
  (CAF v3.2) — read as a ``TableRule``;
- numbered ``[category, quantifier]`` pairs (CAF v4.0): each gives the status its
  category names. An ``any`` pair overrides the ``all`` pairs (one not-achieved
  statement makes the outcome Not achieved whatever else is selected, as the v3.2
  table also says), the ``all`` pairs then apply in their numbered order, and an
  outcome matching none is given the worst status.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bastion.assure.framework import (
    Clause,
    Framework,
    OrderedRule,
    Outcome,
    Rule,
    Statement,
    TableRule,
)
from bastion.assure.schema import LIBRARY_SCHEMA
from bastion.core.errors import InputError
from bastion.core.registry import Registry

CAF_CATEGORIES = ("achieved", "partially-achieved", "not-achieved")
CAF_PROFILES = {"default": "baseline", "trust": "enhanced", "icb": "enhanced",
                "arms_length_body": "enhanced"}  # fmt: skip
_VALIDATOR = jsonschema.Draft202012Validator(LIBRARY_SCHEMA)


def _status_name(category: str) -> str:
    return category.replace("-", " ").capitalize()


def _webcaf_rule(rules: Any, where: str) -> dict[str, Any]:
    if isinstance(rules, dict) and all(isinstance(k, int) for k in rules):
        pairs = [(int(n), str(c), str(q)) for n, (c, q) in sorted(rules.items())]
        ordered = sorted(pairs, key=lambda p: (p[2] != "any", p[0]))
        steps = [
            {"when": [{"category": c, "quantifier": q}], "status": _status_name(c)}
            for _, c, q in ordered
        ]
        return {"kind": "ordered", "steps": steps, "otherwise": _status_name(CAF_CATEGORIES[-1])}
    if isinstance(rules, dict) and all(isinstance(v, dict) for v in rules.values()):
        return {
            "kind": "table",
            "categories": list(CAF_CATEGORIES),
            "table": {k: v["outcome_status"] for k, v in rules.items()},
            "messages": {k: v.get("outcome_status_message", "") for k, v in rules.items()},
        }
    msg = f"{where}: assessment-rules are neither a status table nor numbered pairs"
    raise InputError(msg)


_ABBREVIATION = {"achieved": "A", "partially-achieved": "PA", "not-achieved": "NA"}


def _webcaf_statements(indicators: dict[str, Any]) -> list[dict[str, str]]:
    """Return an outcome's indicators as statements, WebCAF's keys as their ids.

    A key WebCAF repeats within an outcome (v4.0 has two ``A4.a.11``, one partially
    achieved, one achieved) gets its category's abbreviation: ``A4.a.11-A``.
    """
    found: list[dict[str, str]] = []
    keys = [k for c in CAF_CATEGORIES for k in (indicators.get(c) or {})]
    for category in CAF_CATEGORIES:
        for key, statement in (indicators.get(category) or {}).items():
            sid = key if keys.count(key) == 1 else f"{key}-{_ABBREVIATION[category]}"
            text = " ".join(statement["description"].split())
            found.append({"id": sid, "text": text, "category": category})
    return found


def from_webcaf(document: dict[str, Any], version: str | None, where: str) -> dict[str, Any]:
    """Rewrite a WebCAF CAF file as a Bastion library (one outcome rule for the framework)."""
    if version is None:
        found = re.search(r"v(\d+(?:\.\d+)*)", where)
        if found is None:
            msg = f"{where}: say which CAF version this file is (--version)"
            raise InputError(msg)
        version = found.group(1)
    rules: list[dict[str, Any]] = []
    objectives = []
    for objective in document["objectives"].values():
        principles = []
        for principle in objective["principles"].values():
            outcomes = []
            for outcome in principle["outcomes"].values():
                rules.append(
                    _webcaf_rule(outcome["assessment-rules"], f"{where}: {outcome['code']}")
                )
                statements = _webcaf_statements(outcome["indicators"])
                entry = {"id": outcome["code"], "title": outcome["title"],
                         "text": outcome.get("description", ""), "statements": statements}  # fmt: skip
                if "min_profile_requirement" in outcome:
                    entry["profile"] = dict(outcome["min_profile_requirement"])
                outcomes.append(entry)
            principles.append({"id": principle["code"], "title": principle["title"],
                               "text": principle.get("description", ""), "outcomes": outcomes})  # fmt: skip
        objectives.append({"id": objective["code"], "title": objective["title"],
                           "text": objective.get("description", ""), "principles": principles})  # fmt: skip
    if any(rule != rules[0] for rule in rules):
        msg = f"{where}: outcomes have different assessment rules; Bastion reads one per framework"
        raise InputError(msg)
    statuses = [_status_name(c) for c in CAF_CATEGORIES]
    return {
        "format": "bastion-framework/1", "key": "ncsc-caf", "version": version,
        "title": f"NCSC Cyber Assessment Framework v{version}", "kind": "caf",
        "source": {"format": "webcaf", "file": Path(where).name}, "statuses": statuses,
        "profiles": CAF_PROFILES, "outcome_rule": rules[0], "objectives": objectives,
    }  # fmt: skip


def _native(document: dict[str, Any], version: str | None, where: str) -> dict[str, Any]:
    if version is not None and version != document.get("version"):
        msg = f"{where}: the library says version {document.get('version')!r}, not {version!r}"
        raise InputError(msg)
    return document


LIBRARY_FORMATS: Registry[Callable[[dict[str, Any], str | None, str], dict[str, Any]]] = Registry(
    "library format", [("bastion", _native), ("webcaf", from_webcaf)]
)


def _clauses(when: list[dict[str, str]]) -> tuple[Clause, ...]:
    return tuple(Clause(c.get("category"), c.get("quantifier"), c.get("fact")) for c in when)


def _ordered(rule: dict[str, Any]) -> OrderedRule:
    steps = tuple((_clauses(s["when"]), str(s["status"])) for s in rule["steps"])
    return OrderedRule(steps, str(rule["otherwise"]))


def _rule(rule: dict[str, Any]) -> Rule:
    if rule["kind"] == "table":
        return TableRule(tuple(rule["categories"]), dict(rule["table"]), rule.get("messages", {}))
    return _ordered(rule)


def _check_statuses(document: dict[str, Any], where: str) -> None:
    statuses = set(document["statuses"])
    rule = document["outcome_rule"]
    used = set(rule["table"].values()) if rule["kind"] == "table" else {
        *(s["status"] for s in rule["steps"]), rule["otherwise"]}  # fmt: skip
    bad = used - statuses
    if "return_rule" in document:
        ret = document["return_rule"]
        bad |= {*(s["status"] for s in ret["steps"]), ret["otherwise"]} - set(
            document.get("return_statuses", [])
        )
    if bad:
        msg = f"{where}: the rules give status(es) {sorted(bad)} the library does not list"
        raise InputError(msg)


def framework_from(document: dict[str, Any], where: str) -> Framework:
    """Validate a Bastion library document and return its ``Framework``."""
    errors = sorted(_VALIDATOR.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        path = "/".join(str(p) for p in first.absolute_path) or "(top)"
        msg = f"{where}: {path}: {first.message} ({len(errors)} schema error(s))"
        raise InputError(msg)
    _check_statuses(document, where)
    outcomes: list[Outcome] = []
    seen: set[str] = set()
    for objective in document["objectives"]:
        for principle in objective["principles"]:
            for outcome in principle["outcomes"]:
                statements = tuple(
                    Statement(s["id"], s["text"], s["category"], bool(s.get("auto_fail", False)))
                    for s in outcome["statements"]
                )
                ids = [outcome["id"], *(s.id for s in statements)]
                twice = seen.intersection(ids) or ({i for i in ids if ids.count(i) > 1})
                if twice:
                    msg = f"{where}: identifier(s) {sorted(twice)} appear twice"
                    raise InputError(msg)
                seen.update(ids)
                outcomes.append(
                    Outcome(
                        outcome["id"], outcome["title"], outcome.get("text", ""),
                        principle["id"], objective["id"], statements,
                        dict(outcome.get("profile", {})), tuple(outcome.get("maps", ())),
                    )
                )  # fmt: skip
    return Framework(
        key=document["key"], version=document["version"], title=document["title"],
        kind=document["kind"], statuses=tuple(document["statuses"]),
        outcome_rule=_rule(document["outcome_rule"]), outcomes=tuple(outcomes),
        objectives={o["id"]: o["title"] for o in document["objectives"]},
        principles={p["id"]: p["title"] for o in document["objectives"] for p in o["principles"]},
        profiles=dict(document.get("profiles", {})),
        return_rule=_ordered(document["return_rule"]) if "return_rule" in document else None,
        return_statuses=tuple(document.get("return_statuses", ())), source=document,
    )  # fmt: skip


def parse_library(text: str, where: str, version: str | None = None) -> Framework:
    """Parse library ``text`` (read from ``where``) in whichever format it is in."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        msg = f"{where}: not YAML: {exc}"
        raise InputError(msg) from None
    if not isinstance(document, dict):
        msg = f"{where}: a library is a YAML mapping"
        raise InputError(msg)
    name = "bastion" if "format" in document else "webcaf" if "objectives" in document else "?"
    native = LIBRARY_FORMATS.get(name)(document, version, where)
    return framework_from(native, where)


def read_library(path: Path, version: str | None = None) -> Framework:
    """Read the library file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read framework library {path}: {exc.strerror}"
        raise InputError(msg) from None
    return parse_library(text, str(path), version)


SHIPPED = ("dspt", "cyber-essentials")


def shipped_library(name: str) -> Framework:
    """Return a library shipped with Bastion (``dspt``, ``cyber-essentials``)."""
    return read_library(Path(__file__).parent / "data" / f"{name}.yaml")
