"""Inventories and SBOMs: CycloneDX (JSON, XML; spec 1.2-1.6), SPDX 2.2/2.3 JSON, CSV.

``parse_inventory(data, name)`` detects the format and returns the components it
accepts and, per component it cannot use, the reason; a file that is not what it
claims (invalid JSON or XML, an unknown spec version) is rejected whole with a
FormatError, so nothing already stored is replaced by it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from bastion.advisories.packages import cpe_key, normalise_name, parse_cpe, parse_purl
from bastion.advisories.vex import VexStatement, read_vex
from bastion.core.documents import as_list, as_object, as_objects, as_text, load_json, load_xml
from bastion.core.errors import FormatError, InputError, Location
from bastion.core.registry import Registry

CYCLONEDX_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6")
SPDX_VERSIONS = ("SPDX-2.2", "SPDX-2.3")


@dataclass(frozen=True)
class Component:
    """One component of an inventory, with the package keys it is matched under."""

    name: str
    version: str
    ecosystem: str
    package: str
    purl: str | None = None
    cpe: str | None = None
    cpe_package: str | None = None
    cpe_version: str | None = None
    bom_ref: str | None = None


@dataclass(frozen=True)
class Reject:
    """A component the inventory names but that cannot be matched, and why."""

    index: int
    name: str
    reason: str


@dataclass
class Inventory:
    """What one inventory file holds."""

    format: str
    spec_version: str = ""
    serial: str | None = None
    root_ref: str | None = None
    root_name: str = ""
    root_version: str = ""
    components: list[Component] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    vex: list[VexStatement] = field(default_factory=list)
    root: Component | None = None  # the product the inventory describes, when versioned


def _root(inventory: Inventory, purl: str | None = None, cpe: str | None = None) -> None:
    if inventory.root_name and inventory.root_version:
        built = make_component(
            -1,
            name=inventory.root_name,
            version=inventory.root_version,
            purl=purl,
            cpe=cpe,
            bom_ref=inventory.root_ref,
        )
        inventory.root = built if isinstance(built, Component) else None


def make_component(
    index: int,
    *,
    name: str,
    version: str | None,
    purl: str | None = None,
    cpe: str | None = None,
    vendor: str | None = None,
    group: str | None = None,
    bom_ref: str | None = None,
) -> Component | Reject:
    """Build a component from what a format says of it, or say why it cannot be used.

    A value that is not a string (a number, a list) reads as absent.
    """
    version, purl, cpe = as_text(version), as_text(purl), as_text(cpe)
    vendor, group, bom_ref = as_text(vendor), as_text(group), as_text(bom_ref)
    label = name or purl or cpe or f"#{index}"
    version = (version or "").strip()
    ecosystem = package = None
    cpe_package = cpe_version = None
    try:
        if purl:
            ref = parse_purl(purl)
            ecosystem, package, purl = ref.ecosystem, ref.name, ref.purl
            version = version or (ref.version or "")
        if cpe:
            parsed = parse_cpe(cpe)
            cpe_package, cpe_version = parsed.key, parsed.version
            version = version or (cpe_version or "")
    except InputError as exc:
        return Reject(index, label, exc.reason)
    if not name and not purl and not cpe:
        return Reject(index, label, "component has no name, purl or CPE")
    if not version:
        return Reject(index, label, "component has no version, so no range can be checked")
    if ecosystem is None or package is None:
        if cpe_package is not None:
            ecosystem, package = "cpe", cpe_package
        elif vendor:
            ecosystem, package = "cpe", cpe_key(vendor, name)
        else:
            full = f"{group}:{name}" if group else name
            ecosystem, package = "generic", normalise_name("generic", full)
    return Component(
        name=name or package,
        version=version,
        ecosystem=ecosystem,
        package=package,
        purl=purl,
        cpe=cpe,
        cpe_package=cpe_package,
        cpe_version=cpe_version or (version if cpe_package else None),
        bom_ref=bom_ref,
    )


def _add(inventory: Inventory, built: Component | Reject) -> None:
    if isinstance(built, Reject):
        inventory.rejects.append(built)
    else:
        inventory.components.append(built)


# --- CycloneDX JSON ----------------------------------------------------------------


def _walk_json(components: Any) -> Iterator[dict[str, Any]]:
    for comp in as_objects(components):
        yield comp
        yield from _walk_json(comp.get("components"))


def parse_cyclonedx_json(doc: dict[str, Any], where: str = "") -> Inventory:
    """Read a CycloneDX JSON BOM (1.2-1.6), nested components flattened."""
    spec = str(doc.get("specVersion", ""))
    if spec not in CYCLONEDX_VERSIONS:
        msg = f"unknown CycloneDX spec version {spec!r}; supported: {', '.join(CYCLONEDX_VERSIONS)}"
        raise FormatError(msg, Location(file=where or None, field="specVersion"))
    root = as_object(as_object(doc.get("metadata")).get("component"))
    inventory = Inventory(
        "cyclonedx-json",
        spec,
        as_text(doc.get("serialNumber")),
        as_text(root.get("bom-ref")),
        str(root.get("name", "")),
        str(root.get("version", "")),
    )
    _root(inventory, as_text(root.get("purl")), as_text(root.get("cpe")))
    for index, comp in enumerate(_walk_json(doc.get("components"))):
        _add(
            inventory,
            make_component(
                index,
                name=str(comp.get("name", "")),
                version=comp.get("version"),
                purl=comp.get("purl"),
                cpe=comp.get("cpe"),
                group=comp.get("group"),
                bom_ref=comp.get("bom-ref"),
            ),
        )
    return inventory


# --- CycloneDX XML -----------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return None


def _children(element: Element, name: str) -> list[Element]:
    return [c for c in element if _local(c.tag) == name]


def _walk_xml(components: list[Element]) -> Iterator[Element]:
    for holder in components:
        for comp in _children(holder, "component"):
            yield comp
            yield from _walk_xml(_children(comp, "components"))


def parse_cyclonedx_xml(root: Element, where: str = "") -> Inventory:
    """Read a CycloneDX XML BOM; the spec version comes from its namespace."""
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    prefix = "http://cyclonedx.org/schema/bom/"
    spec = namespace.removeprefix(prefix) if namespace.startswith(prefix) else ""
    if spec not in CYCLONEDX_VERSIONS:
        msg = f"unknown CycloneDX spec version {spec or namespace!r}; supported: {', '.join(CYCLONEDX_VERSIONS)}"
        raise FormatError(msg, Location(file=where or None, field="xmlns"))
    metadata = _children(root, "metadata")
    meta_root = _children(metadata[0], "component") if metadata else []
    top = meta_root[0] if meta_root else None
    inventory = Inventory(
        "cyclonedx-xml",
        spec,
        root.get("serialNumber"),
        top.get("bom-ref") if top is not None else None,
        (_child_text(top, "name") or "") if top is not None else "",
        (_child_text(top, "version") or "") if top is not None else "",
    )
    if top is not None:
        _root(inventory, _child_text(top, "purl"), _child_text(top, "cpe"))
    for index, comp in enumerate(_walk_xml(_children(root, "components"))):
        _add(
            inventory,
            make_component(
                index,
                name=_child_text(comp, "name") or "",
                version=_child_text(comp, "version"),
                purl=_child_text(comp, "purl"),
                cpe=_child_text(comp, "cpe"),
                group=_child_text(comp, "group"),
                bom_ref=comp.get("bom-ref"),
            ),
        )
    return inventory


# --- SPDX --------------------------------------------------------------------------


def parse_spdx_json(doc: dict[str, Any], where: str = "") -> Inventory:
    """Read an SPDX 2.2/2.3 JSON document: packages with purl and CPE external refs."""
    spec = str(doc.get("spdxVersion", ""))
    if spec not in SPDX_VERSIONS:
        msg = f"unknown SPDX version {spec!r}; supported: {', '.join(SPDX_VERSIONS)}"
        raise FormatError(msg, Location(file=where or None, field="spdxVersion"))
    described = as_list(doc.get("documentDescribes")) or [
        r.get("relatedSpdxElement")
        for r in as_objects(doc.get("relationships"))
        if r.get("relationshipType") == "DESCRIBES"
    ]
    inventory = Inventory("spdx-json", spec, as_text(doc.get("documentNamespace")))
    packages = as_list(doc.get("packages"))
    for index, pkg in enumerate(packages):
        if not isinstance(pkg, dict):
            inventory.rejects.append(Reject(index, f"#{index}", "package is not an object"))
            continue
        purl = cpe = None
        for ref in as_objects(pkg.get("externalRefs")):
            kind = str(ref.get("referenceType", "")).lower()
            if kind == "purl" and purl is None:
                purl = ref.get("referenceLocator")
            elif kind in {"cpe23type", "cpe23"} and cpe is None:
                cpe = ref.get("referenceLocator")
        spdx_id = as_text(pkg.get("SPDXID"))
        if spdx_id in described and not purl and not cpe:
            inventory.root_ref = spdx_id
            inventory.root_name = str(pkg.get("name", ""))
            inventory.root_version = str(pkg.get("versionInfo", ""))
            _root(inventory)
            continue
        version = pkg.get("versionInfo")
        _add(
            inventory,
            make_component(
                index,
                name=str(pkg.get("name", "")),
                version=None if version == "NOASSERTION" else version,
                purl=purl,
                cpe=cpe,
                vendor=None,
                bom_ref=spdx_id,
            ),
        )
    return inventory


# --- CSV ---------------------------------------------------------------------------

CSV_COLUMNS = ("vendor", "product", "version", "purl", "cpe", "name")


def parse_csv(text: str, where: str = "") -> Inventory:
    """Read a simple inventory: columns vendor, product, version, or purl, or cpe."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if not any(h in {"product", "purl", "cpe", "name"} for h in header):
            msg = "CSV inventory needs a header with product (and vendor, version), purl or cpe"
            raise FormatError(msg, Location(file=where or None, line=1))
        inventory = Inventory("csv")
        for index, raw in enumerate(reader):
            # Cells beyond the header's columns (DictReader's key None) name nothing.
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
            built = make_component(
                index + 2,  # the file's line number: the header is line 1
                name=row.get("product") or row.get("name") or "",
                version=row.get("version"),
                purl=row.get("purl") or None,
                cpe=row.get("cpe") or None,
                vendor=row.get("vendor") or None,
            )
            _add(inventory, built)
    except csv.Error as exc:
        msg = f"malformed CSV: {exc}"
        raise FormatError(msg, Location(file=where or None, line=reader.line_num)) from None
    return inventory


# --- detection ---------------------------------------------------------------------


def _parse_json(doc: Any, where: str) -> Inventory:
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        inventory = parse_cyclonedx_json(doc, where)
    elif isinstance(doc, dict) and "spdxVersion" in doc:
        inventory = parse_spdx_json(doc, where)
    elif isinstance(doc, dict) and "openvex" in str(doc.get("@context", "")):
        inventory = Inventory("openvex")
    else:
        msg = "unrecognised inventory JSON: expected CycloneDX (bomFormat), SPDX (spdxVersion) or OpenVEX"
        raise FormatError(msg, Location(file=where or None))
    inventory.vex = read_vex(doc, where)
    return inventory


def parse_inventory(data: bytes, name: str = "") -> Inventory:
    """Parse an inventory file, detecting CycloneDX JSON/XML, SPDX JSON, OpenVEX or CSV."""
    head = data.lstrip()[:1]
    if head in {b"{", b"["}:
        return _parse_json(load_json(data, where=name), name)
    if head == b"<":
        root = load_xml(data, where=name)
        if _local(root.tag) != "bom":
            msg = f"unrecognised inventory XML: root element <{_local(root.tag)}>, expected a CycloneDX <bom>"
            raise FormatError(msg, Location(file=name or None))
        return parse_cyclonedx_xml(root, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        msg = "not an inventory: neither JSON, XML nor UTF-8 CSV"
        raise FormatError(msg, Location(file=name or None)) from None
    return parse_csv(text, name)


INVENTORY_FORMATS: Registry[Callable[..., Inventory]] = Registry(
    "inventory format",
    (
        ("cyclonedx-json", parse_cyclonedx_json),
        ("cyclonedx-xml", parse_cyclonedx_xml),
        ("spdx-json", parse_spdx_json),
        ("csv", parse_csv),
    ),
)
"""Every inventory format by name; ``parse_inventory`` tells which one a file is."""
