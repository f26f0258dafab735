"""STIX 2.1: bundles of objects, read with the ``stix2`` library.

Each object is parsed (and so validated, patterns included) on its own: a
malformed one is skipped with its reason and the others are kept. An
``indicator`` whose STIX pattern is one comparison, or comparisons joined by OR,
of these object paths becomes one indicator per comparison:

- ``ipv4-addr:value``, ``ipv6-addr:value`` (an address or a CIDR);
- ``domain-name:value``, ``url:value``, ``email-addr:value``;
- ``file:hashes.'SHA-256'`` / ``'SHA-1'`` / ``MD5``;
- any path ending in ``ja3`` or ``ja4`` (STIX has no standard one for TLS fingerprints).

Other patterns (AND, FOLLOWEDBY, comparisons other than ``=``) describe behaviour
rather than one value and are skipped with that reason. TLP comes from the
object's TLP marking (STIX's TLP 1.0 and 2.0 marking definitions, or one defined in
the bundle); the threat name from what the indicator ``indicates`` (malware, actor,
campaign …). A revoked indicator is stored as expired.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import stix2  # type: ignore[import-untyped]
import stix2.exceptions  # type: ignore[import-untyped]

from bastion.core.documents import as_object, load_json
from bastion.core.errors import InputError
from bastion.core.types import Tlp
from bastion.intel.feeds.base import FeedOptions, Parsed, make_indicator
from bastion.intel.feeds.http import document_feed
from bastion.intel.indicator import IndicatorType, parse_tlp

T = IndicatorType
TLP_MARKINGS: dict[str, Tlp] = {
    stix2.TLP_WHITE.id: Tlp.CLEAR,
    stix2.TLP_GREEN.id: Tlp.GREEN,
    stix2.TLP_AMBER.id: Tlp.AMBER,
    stix2.TLP_RED.id: Tlp.RED,
    # TLP 2.0 marking definitions (the OASIS extension's fixed ids).
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Tlp.CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Tlp.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Tlp.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": Tlp.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Tlp.RED,
}
_QUOTED = r"'(?:[^'\\]|\\.)*'"
_NOT_PLAIN = re.compile(
    r"\b(AND|FOLLOWEDBY|REPEATS|WITHIN|START|STOP|NOT|LIKE|MATCHES|IN|ISSUBSET|ISSUPERSET|EXISTS)\b"
    r"|!=|<|>"
)
_COMPARISON = re.compile(rf"([a-z0-9-]+):([^\s=\]]+)\s*=\s*({_QUOTED})")
_HASHES = {"sha-256": T.SHA256, "sha256": T.SHA256, "sha-1": T.SHA1, "sha1": T.SHA1, "md5": T.MD5}
_THREATS = {"malware", "threat-actor", "intrusion-set", "campaign", "tool", "attack-pattern"}


def _path_type(kind: str, path: str, value: str) -> IndicatorType | None:
    last = path.split(".")[-1].strip("'").lower()
    if last in ("ja3", "ja4") or kind.endswith(("ja3", "ja4")):
        return T.JA3 if "ja3" in (last, kind[-3:]) else T.JA4
    if path != "value" and kind != "file":
        return None
    if kind in ("ipv4-addr", "ipv6-addr"):
        if "/" in value:
            return T.CIDR
        return T.IPV4 if kind == "ipv4-addr" else T.IPV6
    if kind == "file" and path.startswith("hashes."):
        return _HASHES.get(path.removeprefix("hashes.").strip("'").lower())
    return {"domain-name": T.DOMAIN, "url": T.URL, "email-addr": T.EMAIL}.get(kind)


def pattern_values(pattern: str) -> list[tuple[IndicatorType, str]]:
    """Return the (type, value) each comparison of a plain OR pattern names; raise InputError."""
    masked = re.sub(_QUOTED, "''", pattern)
    found = _COMPARISON.findall(pattern)
    if _NOT_PLAIN.search(masked) or not found or masked.count("=") != len(found):
        msg = "pattern is not one value or values joined by OR (behaviour patterns are not indicators)"
        raise InputError(msg)
    values = []
    for kind, path, quoted in found:
        value = re.sub(r"\\(.)", r"\1", quoted[1:-1])
        chosen = _path_type(kind, path, value)
        if chosen is None:
            msg = f"no indicator type for {kind}:{path}"
            raise InputError(msg)
        values.append((chosen, value))
    return values


def _moment(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _bundle_tlps(objects: Iterable[Mapping[str, Any]]) -> dict[str, Tlp]:
    """Map the TLP marking definitions a bundle defines itself to their TLP."""
    found = dict(TLP_MARKINGS)
    for item in objects:
        if item.get("type") != "marking-definition":
            continue
        definition = as_object(item.get("definition"))
        name = str(item.get("name") or definition.get("tlp") or "")
        if item.get("definition_type") == "tlp" or name.upper().startswith("TLP:"):
            try:
                found[str(item.get("id"))] = parse_tlp(name)
            except InputError:
                continue
    return found


def read_objects(objects: list[Any], options: FeedOptions, where: str) -> Parsed:
    """Turn STIX 2.1 objects (JSON-ready dicts) into indicators; skip and report bad ones."""
    parsed = Parsed()
    # An object whose type is not a string is no STIX object: stix2.parse says so below.
    dicts = [o for o in objects if isinstance(o, dict) and isinstance(o.get("type"), str)]
    tlps = _bundle_tlps(dicts)
    names = {str(o.get("id")): str(o.get("name") or "") for o in dicts if o.get("type") in _THREATS}
    threats: dict[str, list[str]] = {}
    for item in dicts:
        if item.get("type") == "relationship" and item.get("relationship_type") == "indicates":
            name = names.get(str(item.get("target_ref")), "")
            if name:
                threats.setdefault(str(item.get("source_ref")), []).append(name)
    for number, item in enumerate(objects):
        label = f"{where} object {number}"
        if not isinstance(item, dict):
            parsed.skip(label, f"a {type(item).__name__}, not a STIX object")
            continue
        label = f"{label} ({item.get('id', 'no id')})"
        try:
            obj = stix2.parse(item, allow_custom=True, version="2.1")
        except (stix2.exceptions.STIXError, ValueError, TypeError) as exc:
            parsed.skip(label, f"invalid STIX: {exc}")
            continue
        if getattr(obj, "type", None) != "indicator":
            parsed.ignored += 1
            continue
        if obj.get("pattern_type") != "stix":
            parsed.skip(label, f"pattern type {obj.get('pattern_type')!r} is not read, only stix")
            continue
        try:
            values = pattern_values(str(obj["pattern"]))
        except InputError as exc:
            parsed.skip(label, exc.reason)
            continue
        tlp = next((tlps[m] for m in obj.get("object_marking_refs", []) if m in tlps), None)
        revoked = bool(obj.get("revoked"))
        valid_until = _moment(obj.get("modified")) if revoked else _moment(obj.get("valid_until"))
        threat = "; ".join(sorted(set(threats.get(obj.id, [])))) or None
        tags = tuple(obj.get("indicator_types", ())) + tuple(obj.get("labels", ()))
        for kind, value in values:
            try:
                parsed.indicators.append(
                    make_indicator(
                        options,
                        type=kind,
                        value=value,
                        tlp=tlp,
                        confidence=obj.get("confidence"),
                        threat=threat,
                        tags=tags,
                        first_seen=_moment(obj.get("valid_from")),
                        last_seen=_moment(obj.get("modified")),
                        valid_until=valid_until,
                    )
                )
            except InputError as exc:
                parsed.skip(label, exc.reason)
    return parsed


def read_bundle(content: bytes, options: FeedOptions, where: str) -> Parsed:
    """Read a STIX 2.1 bundle (or a bare list of objects); raise InputError if it is neither."""
    data = load_json(content, where=where)
    if isinstance(data, dict) and (data.get("type") == "bundle" or "objects" in data):
        objects = data.get("objects", [])  # a bundle, or a TAXII envelope
    elif isinstance(data, list):
        objects = data
    else:
        msg = f'{where}: not a STIX bundle (no "type": "bundle")'
        raise InputError(msg)
    if not isinstance(objects, list):
        msg = f"{where}: the bundle's objects are not a list"
        raise InputError(msg)
    return read_objects(objects, options, where)


def _looks_like_bundle(content: bytes) -> bool:
    head = content[:2048].decode("utf-8", "replace")
    return bool(re.search(r'"type"\s*:\s*"bundle"', head))


STIX = document_feed(
    "stix", "a STIX 2.1 bundle (JSON) at a URL", read_bundle, detect=_looks_like_bundle
)
