"""MISP: event JSON files, and MISP feeds (``manifest.json`` plus one ``<uuid>.json`` per event).

An attribute flagged ``to_ids`` of a type that names a value Bastion can match
becomes an indicator (``ip-dst``, ``ip-src`` and their ``|port`` forms, ``domain``,
``hostname``, ``domain|ip``, ``url``, ``md5``/``sha1``/``sha256`` and their
``filename|`` forms, ``email-src``/``email-dst``, ``ja3-fingerprint-md5``); other
attributes are counted as ignored. The event's ``tlp:`` tag gives the TLP (an
attribute's own tag wins), its ``info`` the threat name, its threat level the
severity. A bad attribute or event is skipped with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from bastion.core import fetch
from bastion.core.documents import load_json
from bastion.core.errors import FetchError, InputError
from bastion.core.types import Severity, Tlp
from bastion.intel.feeds.base import (
    FeedOptions,
    FeedState,
    FeedType,
    Fetched,
    Parsed,
    make_indicator,
)
from bastion.intel.feeds.http import document_feed
from bastion.intel.indicator import IndicatorType, infer_type, parse_tlp

T = IndicatorType
_TYPES: dict[str, IndicatorType | None] = {  # None: infer from the value (IPs and networks)
    "ip-dst": None, "ip-src": None, "ip-dst|port": None, "ip-src|port": None,
    "domain": T.DOMAIN, "hostname": T.DOMAIN, "domain|ip": T.DOMAIN,
    "url": T.URL, "md5": T.MD5, "sha1": T.SHA1, "sha256": T.SHA256,
    "filename|md5": T.MD5, "filename|sha1": T.SHA1, "filename|sha256": T.SHA256,
    "email-src": T.EMAIL, "email-dst": T.EMAIL, "email": T.EMAIL,
    "ja3-fingerprint-md5": T.JA3,
}  # fmt: skip
_LEVELS = {"1": Severity.HIGH, "2": Severity.MEDIUM, "3": Severity.LOW}


def _tags(item: Mapping[str, Any]) -> list[str]:
    return [str(t.get("name", "")) for t in item.get("Tag", []) or [] if isinstance(t, dict)]


def _tlp(tags: list[str]) -> Tlp | None:
    for tag in tags:
        if tag.lower().startswith("tlp:"):
            try:
                return parse_tlp(tag)
            except InputError:
                continue
    return None


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        if str(value).isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _value(kind: str, raw: str) -> tuple[IndicatorType, str]:
    value = raw.strip()
    if kind.startswith("filename|"):
        value = value.rsplit("|", 1)[-1]
    elif "|" in kind:  # ip-dst|port, domain|ip: the value is the first part
        value = value.split("|", 1)[0]
    chosen = _TYPES[kind]
    if chosen is None:
        chosen = infer_type(value)
        if chosen not in (T.IPV4, T.IPV6, T.CIDR):
            msg = f"{kind} value {value!r} is not an IP address or network"
            raise InputError(msg)
    return chosen, value


def read_event(data: Any, options: FeedOptions, where: str) -> Parsed:
    """Read one MISP event (``{"Event": {...}}`` or the event object itself)."""
    parsed = Parsed()
    event = data.get("Event", data) if isinstance(data, dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("Attribute", []), list):
        parsed.skip(where, 'not a MISP event (expected {"Event": {"Attribute": [...]}})')
        return parsed
    event_tags = _tags(event)
    info = str(event.get("info") or "").strip()[:200] or None
    severity = _LEVELS.get(str(event.get("threat_level_id", "")))
    attributes = list(event.get("Attribute", []) or [])
    for obj in event.get("Object", []) or []:
        if isinstance(obj, dict):
            attributes.extend(obj.get("Attribute", []) or [])
    for number, attribute in enumerate(attributes):
        label = f"{where} attribute {number}"
        if not isinstance(attribute, dict) or "type" not in attribute or "value" not in attribute:
            parsed.skip(label, "not an attribute with a type and a value")
            continue
        label = f"{label} ({attribute.get('uuid', attribute['type'])})"
        kind = str(attribute["type"])
        to_ids = attribute.get("to_ids") in (True, 1, "1", "true", "True")
        if kind not in _TYPES or not to_ids or attribute.get("deleted") in (True, "1"):
            parsed.ignored += 1
            continue
        tags = _tags(attribute)
        try:
            found, value = _value(kind, str(attribute["value"]))
            parsed.indicators.append(
                make_indicator(
                    options,
                    type=found,
                    value=value,
                    tlp=_tlp(tags) or _tlp(event_tags),
                    severity=severity,
                    threat=info,
                    tags=tuple(t for t in tags + event_tags if not t.lower().startswith("tlp:")),
                    first_seen=_when(attribute.get("first_seen")),
                    last_seen=_when(attribute.get("last_seen"))
                    or _when(attribute.get("timestamp")),
                )
            )
        except InputError as exc:
            parsed.skip(label, exc.reason)
    return parsed


def read_event_json(content: bytes, options: FeedOptions, where: str) -> Parsed:
    """Read a MISP event JSON file; raise InputError if it is not JSON."""
    data = load_json(content, where=where)
    if isinstance(data, dict) and isinstance(data.get("response"), list):  # a REST search answer
        parsed = Parsed()
        for number, item in enumerate(data["response"]):
            parsed.extend(read_event(item, options, f"{where} event {number}"))
        return parsed
    return read_event(data, options, where)


def fetch_feed(client: httpx.Client, state: FeedState, options: FeedOptions) -> Fetched:
    """Pull a MISP feed: its manifest (conditionally), then every event the manifest lists."""
    base = state.url if state.url.endswith("/") else state.url + "/"
    manifest_url = urljoin(base, "manifest.json")
    answer = fetch.get(
        client,
        manifest_url,
        timeout=options.timeout,
        etag=state.etag,
        last_modified=state.last_modified,
    )
    if answer.body is None:
        return Fetched(None, answer.status, state.etag, state.last_modified)
    try:
        manifest = load_json(answer.body, where=manifest_url)
    except InputError as exc:
        raise FetchError(str(exc), answer.status) from None
    if not isinstance(manifest, dict):
        msg = f"{manifest_url}: not a MISP manifest (an object keyed by event uuid)"
        raise FetchError(msg, answer.status)
    parsed = Parsed()
    for uuid in sorted(manifest):
        url = urljoin(base, f"{uuid}.json")
        try:
            event = fetch.get(client, url, timeout=options.timeout)
            assert event.body is not None  # an unconditional GET has a body
            parsed.extend(read_event_json(event.body, options, url))
        except (FetchError, InputError) as exc:
            parsed.skip(url, str(exc))
    return Fetched(parsed, answer.status, answer.etag, answer.last_modified)


def _looks_like_event(content: bytes) -> bool:
    head = content[:4096].decode("utf-8", "replace")
    return '"Event"' in head or ('"Attribute"' in head and '"info"' in head)


MISP_FEED = FeedType(
    name="misp-feed",
    description="a MISP feed: manifest.json and one <uuid>.json per event under a base URL",
    read=read_event_json,
    fetch=fetch_feed,
)
MISP_EVENT = document_feed(
    "misp-event", "one MISP event JSON document at a URL", read_event_json, detect=_looks_like_event
)
