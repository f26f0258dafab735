"""Read untrusted JSON and XML documents within bounds: their size, their nesting, no DTD.

Every importer (indicator files and feeds, inventories and SBOMs, vulnerability
intelligence) reads its documents here, so a hostile one is refused with an
InputError that says what and where instead of exhausting the stack or memory:

* ``load_json`` refuses more than ``max_bytes``, more than ``max_depth`` nested
  arrays and objects (counted before parsing, by a scan that skips string
  literals), text that is not UTF-8, and ``NaN``/``Infinity``, which JSON lacks;
* ``load_xml`` refuses more than ``max_bytes``, any DTD (internal or external),
  entities, and more than ``max_depth`` nested elements.
"""

from __future__ import annotations

import json
import math
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import numpy as np
from defusedxml import DefusedXmlException, DTDForbidden

from bastion.core.errors import FormatError, LimitExceeded, Location

MAX_BYTES = 64 << 20
MAX_DEPTH = 64

# Every byte but the four brackets, for bytes.translate to delete in one C pass.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# What each byte adds to the depth: +1 opens an array or object, -1 closes one.
_STEP = np.zeros(256, dtype=np.int32)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


def json_depth(data: bytes | str) -> int:
    """Return how deeply arrays and objects nest in JSON ``data``, without parsing it.

    Escaped backslashes, then escaped quotes, are dropped (left to right, as a JSON
    reader pairs them), so every remaining quote opens or closes a string; the even
    pieces between quotes lie outside strings, and only their brackets count. Where
    the text is not JSON the count may differ, but never below what a reader would
    nest before reaching the error.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[0::2])
    brackets = outside.translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return int(np.cumsum(_STEP[np.frombuffer(brackets, dtype=np.uint8)]).max())


def _size(length: int, where: str, max_bytes: int) -> None:
    if length > max_bytes:
        msg = f"the document is {length:,} bytes; Bastion reads at most {max_bytes:,}"
        raise LimitExceeded(msg, Location(file=where or None))


def _no_constant(name: str, where: str) -> Any:
    msg = f"not valid JSON: {name} is not a JSON number"
    raise FormatError(msg, Location(file=where or None))


def _finite(text: str, where: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        msg = f"not valid JSON: the number {text[:40]} is out of range"
        raise FormatError(msg, Location(file=where or None))
    return value


def load_json(
    data: bytes | str,
    *,
    where: str,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse a JSON document from an untrusted source; raise an InputError naming ``where``."""
    location = Location(file=where or None)
    if isinstance(data, bytes):
        _size(len(data), where, max_bytes)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            msg = f"not valid JSON: not UTF-8 text (byte {exc.start})"
            raise FormatError(msg, location) from None
    else:
        _size(len(data), where, max_bytes)
        text = data.removeprefix("\ufeff")
    depth = json_depth(data)
    if depth > max_depth:
        msg = (
            f"the document nests {depth} arrays or objects deep; Bastion reads at most {max_depth}"
        )
        raise LimitExceeded(msg, location)
    try:
        return json.loads(
            text,
            parse_constant=lambda name: _no_constant(name, where),
            parse_float=lambda number: _finite(number, where),
        )
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise FormatError(msg, Location(file=where or None, line=exc.lineno)) from None
    except ValueError as exc:  # a number with more digits than Python converts
        msg = f"not valid JSON: {exc}"
        raise FormatError(msg, location) from None
    except RecursionError:  # the scan above should have refused it; never let it escape
        msg = "the document nests too deeply to read"
        raise LimitExceeded(msg, location) from None


def xml_depth(root: Element) -> int:
    """Return how deeply the elements under ``root`` nest (``root`` alone is 1)."""
    deepest = 0
    level: list[Element] = [root]
    while level:
        deepest += 1
        level = [child for element in level for child in element]
    return deepest


def load_xml(
    data: bytes,
    *,
    where: str,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Element:
    """Parse an XML document from an untrusted source; raise an InputError naming ``where``.

    Any DTD is refused, external or internal: Bastion's formats need none, and
    without one no entity or external reference can be declared.
    """
    location = Location(file=where or None)
    _size(len(data), where, max_bytes)
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DTDForbidden as exc:
        msg = f"not safe XML: a DTD (<!DOCTYPE {exc.name} ...>) is not accepted; remove it"
        raise FormatError(msg, location) from None
    except DefusedXmlException as exc:
        msg = f"not safe XML: {exc}"
        raise FormatError(msg, location) from None
    except SafeET.ParseError as exc:
        msg = f"not valid XML: {exc}"
        raise FormatError(msg, location) from None
    depth = xml_depth(root)
    if depth > max_depth:
        msg = f"the document nests {depth} elements deep; Bastion reads at most {max_depth}"
        raise LimitExceeded(msg, location)
    return root


def as_object(value: Any) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object, else an empty one: a wrong type reads as absent."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """Return ``value`` if it is a JSON array, else an empty one: a wrong type reads as absent."""
    return value if isinstance(value, list) else []


def as_objects(value: Any) -> list[dict[str, Any]]:
    """Return the objects in ``value`` if it is a JSON array, skipping anything else in it."""
    return [item for item in as_list(value) if isinstance(item, dict)]


def as_text(value: Any) -> str | None:
    """Return ``value`` if it is a JSON string, else None: a wrong type reads as absent."""
    return value if isinstance(value, str) else None
