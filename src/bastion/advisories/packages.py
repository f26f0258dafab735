"""Package identity: purls, CPE 2.3 names and the ecosystems whose versions we compare.

Every component and every affected range is reduced to one *package key*, an
(ecosystem, name) pair, normalised so that the same package written by two tools
(an SBOM generator and an advisory database) compares equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packageurl import PackageURL

from bastion.core.errors import InputError

# OSV ecosystem names (the part before any ":release") → our ecosystem names, which are
# purl types. Anything not listed compares versions generically.
_OSV_ECOSYSTEMS = {
    "maven": "maven",
    "npm": "npm",
    "pypi": "pypi",
    "debian": "deb",
    "ubuntu": "deb",
    "alpine": "apk",
    "red hat": "rpm",
    "rocky linux": "rpm",
    "almalinux": "rpm",
    "suse": "rpm",
    "opensuse": "rpm",
    "mageia": "rpm",
    "go": "golang",
    "nuget": "nuget",
    "crates.io": "cargo",
    "rubygems": "gem",
    "packagist": "composer",
}

ECOSYSTEMS = ("maven", "npm", "pypi", "deb", "apk", "rpm", "golang", "nuget", "generic", "cpe")
"""Ecosystems with their own version semantics; ``cpe`` is a vendor:product name."""

_PEP503 = re.compile(r"[-_.]+")


def osv_ecosystem(name: str) -> str:
    """Return our ecosystem for an OSV ecosystem name such as ``Debian:11`` or ``PyPI``."""
    base = name.split(":", 1)[0].strip().lower()
    return _OSV_ECOSYSTEMS.get(base, base or "generic")


def normalise_name(ecosystem: str, name: str) -> str:
    """Return the package name as it is compared within ``ecosystem``."""
    text = name.strip()
    if ecosystem == "pypi":
        return _PEP503.sub("-", text).lower()
    if ecosystem == "golang":
        return text
    if ecosystem == "cpe":
        return text.lower().replace(" ", "_")
    return text.lower()


def cpe_key(vendor: str, product: str) -> str:
    """Return the package name of a vendor and product, as CPE writes them."""
    return normalise_name("cpe", f"{vendor.strip()}:{product.strip()}")


@dataclass(frozen=True)
class PackageRef:
    """A package identity and, when known, a version."""

    ecosystem: str
    name: str
    version: str | None = None
    purl: str | None = None


def parse_purl(text: str) -> PackageRef:
    """Parse a package URL into its package key and version; raise InputError.

    The purl is normalised: type and namespace lower-cased where the type is
    case-insensitive, qualifiers sorted, and ``upstream`` (the source package of a
    Debian or Alpine binary, which is what distribution advisories name) preferred
    to the binary name for ``deb`` and ``apk``.
    """
    try:
        purl = PackageURL.from_string(text.strip())
    except ValueError as exc:
        msg = f"invalid package URL {text!r}: {exc}"
        raise InputError(msg) from None
    kind = purl.type.lower()
    name = purl.name
    if kind == "maven":
        full = f"{purl.namespace}:{name}" if purl.namespace else name
    elif kind in {"npm", "golang", "composer"} and purl.namespace:
        full = f"{purl.namespace}/{name}"
    elif kind in {"deb", "apk"}:
        qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
        upstream = str(qualifiers.get("upstream") or "").split("@", 1)[0].strip()
        full = upstream or name
    else:
        full = name
    ecosystem = kind if kind in ECOSYSTEMS or kind in _OSV_ECOSYSTEMS.values() else "generic"
    canonical = PackageURL(
        type=kind,
        namespace=purl.namespace.lower() if purl.namespace and kind != "golang" else purl.namespace,
        name=name if kind == "golang" else name.lower(),
        version=purl.version,
        qualifiers=purl.qualifiers,
        subpath=purl.subpath,
    ).to_string()
    return PackageRef(ecosystem, normalise_name(ecosystem, full), purl.version or None, canonical)


def _cpe_split(text: str) -> list[str]:
    """Split a CPE 2.3 formatted string on unescaped colons."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class Cpe:
    """The parts of a CPE 2.3 name that decide applicability."""

    part: str
    vendor: str
    product: str
    version: str | None  # None for ANY ("*") or NA ("-")
    update: str | None

    @property
    def key(self) -> str:
        return cpe_key(self.vendor, self.product)


def parse_cpe(text: str) -> Cpe:
    """Parse a CPE 2.3 formatted string (``cpe:2.3:a:vendor:product:version:…``)."""
    fields = _cpe_split(text.strip())
    if len(fields) < 6 or fields[0].lower() != "cpe" or fields[1] != "2.3":
        msg = f"invalid CPE 2.3 name {text!r}: expected cpe:2.3:part:vendor:product:version:…"
        raise InputError(msg)
    part, vendor, product, version = (f.lower() for f in fields[2:6])
    update = fields[6].lower() if len(fields) > 6 else "*"
    if part not in {"a", "o", "h", "*"} or not vendor or not product or "*" in (vendor, product):
        msg = f"invalid CPE 2.3 name {text!r}: part must be a, o or h and vendor and product named"
        raise InputError(msg)
    return Cpe(
        part,
        vendor,
        product,
        None if version in {"*", "-", ""} else version,
        None if update in {"*", "-", ""} else update,
    )
