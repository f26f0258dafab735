"""VEX: what a supplier or an organisation says about a vulnerability in its product.

CycloneDX VEX (``vulnerabilities[].analysis`` with ``affects``) and OpenVEX
(``statements``) both become VexStatements: a vulnerability, a product reference,
the versions the statement covers, and a status — ``not_affected``, ``fixed``,
``affected`` or ``under_investigation``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bastion.advisories.packages import parse_purl
from bastion.advisories.versions import version_parser
from bastion.core.documents import as_list, as_object, as_objects
from bastion.core.errors import FormatError, InputError, Location

STATUSES = ("not_affected", "fixed", "affected", "under_investigation")

_CDX_STATE = {
    "exploitable": "affected",
    "in_triage": "under_investigation",
    "not_affected": "not_affected",
    "false_positive": "not_affected",
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
}


@dataclass(frozen=True)
class VexStatement:
    """One statement: ``vulnerability`` in ``product`` at ``versions`` has ``status``.

    ``product`` is a bom-ref (``serial`` names its BOM when a BOM-Link gave one) or a
    purl; ``versions`` holds exact versions and ``vers:`` ranges; empty means every
    version (or the one in a versioned purl).
    """

    vulnerability: str
    product: str
    serial: str | None
    versions: tuple[str, ...]
    status: str
    justification: str = ""
    detail: str = ""


def _bom_link(ref: str) -> tuple[str | None, str]:
    """Split ``urn:cdx:<serial>/<version>#<bom-ref>`` into (urn:uuid:serial, bom-ref)."""
    match = re.fullmatch(r"urn:cdx:([0-9a-fA-F-]{36})/\d+#(.+)", ref)
    if match:
        return f"urn:uuid:{match.group(1).lower()}", match.group(2)
    return None, ref


def read_cyclonedx_vex(doc: dict[str, Any], where: str = "") -> list[VexStatement]:
    out = []
    for number, vuln in enumerate(as_objects(doc.get("vulnerabilities"))):
        analysis = as_object(vuln.get("analysis"))
        state = analysis.get("state")
        if not vuln.get("id") or not state:
            continue
        if not isinstance(state, str) or state not in _CDX_STATE:
            msg = f"unknown VEX analysis state {state!r}; expected one of {', '.join(_CDX_STATE)}"
            raise FormatError(msg, Location(file=where or None, field=f"vulnerabilities[{number}]"))
        status = _CDX_STATE[state]
        for affects in as_objects(vuln.get("affects")):
            serial, ref = _bom_link(str(affects.get("ref", "")))
            by_status: dict[str, list[str]] = {}
            for item in as_objects(affects.get("versions")):
                entry_status = {"affected": "affected", "unaffected": "not_affected"}.get(
                    str(item.get("status", "")), status
                )
                if item.get("status") == "unknown":
                    continue
                value = item.get("version") or item.get("range")
                if value:
                    by_status.setdefault(entry_status, []).append(str(value))
            if not by_status:
                by_status[status] = []
            for entry_status, versions in by_status.items():
                out.append(
                    VexStatement(
                        str(vuln["id"]),
                        ref,
                        serial,
                        tuple(versions),
                        entry_status,
                        str(analysis.get("justification", "")),
                        str(analysis.get("detail", "")),
                    )
                )
    return out


def read_openvex(doc: dict[str, Any], where: str = "") -> list[VexStatement]:
    out = []
    for number, statement in enumerate(as_objects(doc.get("statements"))):
        vuln = statement.get("vulnerability")
        name = vuln.get("name") or vuln.get("@id") if isinstance(vuln, dict) else vuln
        status = statement.get("status")
        if not name or status not in STATUSES:
            msg = f"OpenVEX statement needs a vulnerability and a status in {', '.join(STATUSES)}"
            raise FormatError(msg, Location(file=where or None, field=f"statements[{number}]"))
        for product in as_list(statement.get("products")):
            ref = product.get("@id") if isinstance(product, dict) else product
            if ref:
                out.append(
                    VexStatement(
                        str(name),
                        str(ref),
                        None,
                        (),
                        str(status),
                        str(statement.get("justification", "")),
                        str(
                            statement.get("impact_statement") or statement.get("status_notes") or ""
                        ),
                    )
                )
    return out


def read_vex(doc: Any, where: str = "") -> list[VexStatement]:
    """Return the VEX statements of a CycloneDX or OpenVEX document (none for a plain BOM)."""
    if not isinstance(doc, dict):
        return []
    if "openvex" in str(doc.get("@context", "")):
        return read_openvex(doc, where)
    if doc.get("bomFormat") == "CycloneDX":
        return read_cyclonedx_vex(doc, where)
    return []


def _vers_holds(spec: str, version: str) -> bool:
    """Whether ``version`` lies in a ``vers:<scheme>/<constraints>`` range."""
    scheme, _, constraints = spec.removeprefix("vers:").partition("/")
    ecosystem = {"generic": "generic", "maven": "maven", "npm": "npm", "pypi": "pypi",
                 "deb": "deb", "apk": "apk", "alpine": "apk", "rpm": "rpm", "golang": "golang",
                 "nuget": "nuget"}.get(scheme, "generic")  # fmt: skip
    parse = version_parser(ecosystem)
    try:
        value = parse(version)
        items = []
        for raw in constraints.split("|"):
            match = re.fullmatch(r"\s*(>=|<=|!=|>|<|=)?\s*(.+?)\s*", raw)
            if not match:
                continue
            items.append((match.group(1) or "=", parse(match.group(2))))
    except ValueError:
        return False
    if constraints.strip() == "*":
        return True
    if any(op == "!=" and value == bound for op, bound in items):
        return False
    if any(op == "=" and value == bound for op, bound in items):
        return True
    ordered = [(op, bound) for op, bound in items if op in {">", ">=", "<", "<="}]
    i = 0
    while i < len(ordered):
        op, bound = ordered[i]
        if op in {">", ">="}:
            above = value > bound if op == ">" else not value < bound
            if i + 1 < len(ordered) and ordered[i + 1][0] in {"<", "<="}:
                hop, hbound = ordered[i + 1]
                below = value < hbound if hop == "<" else not hbound < value
                if above and below:
                    return True
                i += 2
                continue
            if above:
                return True
        else:
            below = value < bound if op == "<" else not bound < value
            if below:
                return True
        i += 1
    return False


def covers(statement: VexStatement, version: str) -> bool:
    """Whether the statement speaks of ``version`` of its product."""
    if not statement.versions:
        if statement.product.startswith("pkg:"):
            try:
                pinned = parse_purl(statement.product).version
            except InputError:
                return False
            return pinned is None or pinned == version
        return True
    for item in statement.versions:
        if item.startswith("vers:"):
            if _vers_holds(item, version):
                return True
        elif item.strip() == version.strip():
            return True
    return False
