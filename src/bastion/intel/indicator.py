"""Indicators: a listed IP, network, domain, URL, fingerprint or hash, and what to do on a match.

An ``Indicator`` is always canonical: creating one normalises its value for its
type (lower-case domains without the trailing dot, canonical IPs and CIDRs,
lower-case hashes, URLs with lower-case scheme and host) or raises InputError
naming the field. Two sources listing the same thing yield the same ``id``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bastion.core.choices import Choice
from bastion.core.errors import InputError, Location
from bastion.core.timeutil import as_utc
from bastion.core.types import Severity, Tlp
from bastion.intel.urls import normalise_url


class IndicatorType(Choice, what="indicator type", field="type"):
    """What an indicator's value is."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    CIDR = "cidr"
    DOMAIN = "domain"
    URL = "url"
    URL_PATTERN = "url_pattern"
    JA3 = "ja3"
    JA4 = "ja4"
    SHA256 = "sha256"
    SHA1 = "sha1"
    MD5 = "md5"
    EMAIL = "email"


class Action(StrEnum):
    """What a match should lead to."""

    BLOCK = "block"
    ALERT = "alert"


def parse_severity(value: str) -> Severity:
    """Return the severity named ``value`` ("info" allowed), or raise InputError."""
    text = value.strip().lower()
    try:
        return Severity("informational" if text == "info" else text)
    except ValueError:
        choices = ", ".join(s.value for s in Severity)
        msg = f"unknown severity {value!r}; choose one of {choices}"
        raise InputError(msg, Location(field="severity")) from None


def parse_tlp(value: str) -> Tlp:
    """Return the TLP 2.0 marking named ``value`` ("TLP:AMBER", "amber+strict", "white"), or raise."""
    text = value.strip().upper().removeprefix("TLP:").strip()
    if text == "WHITE":  # TLP 1.0's name for CLEAR
        text = "CLEAR"
    try:
        return Tlp(text)
    except ValueError:
        choices = ", ".join(t.value for t in Tlp)
        msg = f"unknown TLP {value!r}; choose one of {choices}"
        raise InputError(msg, Location(field="tlp")) from None


TLP_ORDER = {tlp.value: rank for rank, tlp in enumerate(Tlp)}


def parse_action(value: str) -> Action:
    """Return the action named ``value``, or raise InputError."""
    try:
        return Action(value.strip().lower())
    except ValueError:
        msg = f"unknown action {value!r}; choose block or alert"
        raise InputError(msg, Location(field="action")) from None


_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HEX = re.compile(r"^[0-9a-f]+$")
_JA4 = re.compile(r"^[a-z0-9]{10}_[0-9a-f]{12}_[0-9a-f]{12}$")
_HASH_LENGTHS = {32: IndicatorType.MD5, 40: IndicatorType.SHA1, 64: IndicatorType.SHA256}
_HEX_LENGTH = {
    IndicatorType.MD5: 32,
    IndicatorType.SHA1: 40,
    IndicatorType.SHA256: 64,
    IndicatorType.JA3: 32,
}
# A URL pattern needs one literal run this long: the Aho-Corasick key it is found by.
MIN_PATTERN_LITERAL = 3
MAX_VALUE_LENGTH = 2048  # the store's column width


def _bad(kind: IndicatorType, value: str, why: str) -> InputError:
    return InputError(f"invalid {kind.value} {value!r}: {why}", Location(field="value"))


def _address(value: str, kind: IndicatorType) -> tuple[IndicatorType, str]:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        msg = "not an IP address"
        raise _bad(kind, value, msg) from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # the matcher sees ::ffff:a.b.c.d as IPv4
    found = IndicatorType.IPV4 if address.version == 4 else IndicatorType.IPV6
    if found != kind:
        msg = f"this is an IPv{address.version} address"
        raise _bad(kind, value, msg)
    return found, str(address)


def _network(value: str) -> tuple[IndicatorType, str]:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise _bad(IndicatorType.CIDR, value, str(exc)) from None
    if network.prefixlen == 0:
        msg = "a /0 lists every address; give a narrower network"
        raise _bad(IndicatorType.CIDR, value, msg)
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
    if network.prefixlen == network.max_prefixlen:  # a /32 or /128 is the address itself
        kind = IndicatorType.IPV4 if network.version == 4 else IndicatorType.IPV6
        return kind, str(network.network_address)
    return IndicatorType.CIDR, str(network)


def normalise_domain(value: str) -> str:
    """Return ``value`` as a lower-case domain without the trailing dot, or raise InputError."""
    text = value.strip().lower().rstrip(".")
    if "*" in text:
        msg = "no wildcards: a domain already matches all its subdomains (or use url_pattern)"
        raise _bad(IndicatorType.DOMAIN, value, msg)
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise _bad(IndicatorType.DOMAIN, value, str(exc)) from None
    if not _DOMAIN.fullmatch(text) or text.rsplit(".", 1)[-1].isdigit():
        msg = "expected a host name like evil.example"
        raise _bad(IndicatorType.DOMAIN, value, msg)
    return text


def normalise_url_pattern(value: str) -> str:
    """Return a URL pattern lower-cased with runs of ``*`` collapsed, or raise InputError.

    A pattern with ``://`` is anchored at the start of the URL; one without is found
    anywhere in it. ``*`` matches any run of characters. Matching ignores case. An
    anchored pattern with a literal host is normalised like a URL (default port dropped,
    ``/`` after the host), since the URLs it is matched against are.
    """
    text = re.sub(r"\*+", "*", value.strip().lower())
    scheme, _, rest = text.partition("://")
    if rest and "*" not in scheme and "*" not in re.split(r"[/?#]", rest, maxsplit=1)[0]:
        text = normalise_url(text) or text
    if any(c.isspace() for c in text):
        msg = "no white space allowed"
        raise _bad(IndicatorType.URL_PATTERN, value, msg)
    if max((len(p) for p in text.split("*")), default=0) < MIN_PATTERN_LITERAL:
        msg = f"needs a literal part of at least {MIN_PATTERN_LITERAL} characters between the *s"
        raise _bad(IndicatorType.URL_PATTERN, value, msg)
    return text


def normalise(kind: IndicatorType, value: str) -> tuple[IndicatorType, str]:
    """Return the canonical (type, value); a /32 CIDR becomes an ipv4, and so on."""
    text = value.strip()
    if not text:
        msg = "value is empty"
        raise InputError(msg, Location(field="value"))
    if kind in (IndicatorType.IPV4, IndicatorType.IPV6):
        return _address(text, kind)
    if kind is IndicatorType.CIDR:
        return _network(text)
    if kind is IndicatorType.DOMAIN:
        return kind, normalise_domain(text)
    if kind is IndicatorType.URL:
        url = normalise_url(text)
        if url is None:
            msg = "expected scheme://host/path"
            raise _bad(kind, value, msg)
        return kind, url
    if kind is IndicatorType.URL_PATTERN:
        return kind, normalise_url_pattern(text)
    if kind is IndicatorType.EMAIL:
        if not _EMAIL.fullmatch(text.lower()):
            msg = "expected name@domain"
            raise _bad(kind, value, msg)
        return kind, text.lower()
    if kind is IndicatorType.JA4:
        if not _JA4.fullmatch(text.lower()):
            msg = "expected a JA4 fingerprint like t13d1516h2_8daaf6152771_b186095e22b6"
            raise _bad(kind, value, msg)
        return kind, text.lower()
    length = _HEX_LENGTH[kind]
    if len(text) != length or not _HEX.fullmatch(text.lower()):
        msg = f"expected {length} hexadecimal digits"
        raise _bad(kind, value, msg)
    return kind, text.lower()


def infer_type(value: str) -> IndicatorType:
    """Guess the type of a bare value: IP, CIDR, URL, e-mail, md5/sha1/sha256 or domain.

    A JA3 fingerprint looks like an md5, and a JA4 or URL pattern like nothing
    else in particular: give those types explicitly.
    """
    text = value.strip()
    try:
        return IndicatorType.IPV4 if ipaddress.ip_address(text).version == 4 else IndicatorType.IPV6
    except ValueError:
        pass
    if "/" in text and "://" not in text:
        return IndicatorType.CIDR
    if "://" in text:
        return IndicatorType.URL
    if "@" in text:
        return IndicatorType.EMAIL
    if _HEX.fullmatch(text.lower()) and len(text) in _HASH_LENGTHS:
        return _HASH_LENGTHS[len(text)]
    try:
        normalise_domain(text)
    except InputError:
        msg = f"cannot tell what {value!r} is; give its type"
        raise InputError(msg, Location(field="type")) from None
    return IndicatorType.DOMAIN


@dataclass(frozen=True)
class Indicator:
    """One source's listing of one threat indicator; canonical once created."""

    type: IndicatorType
    value: str
    source: str
    severity: Severity = Severity.MEDIUM
    confidence: int = 50
    action: Action = Action.ALERT
    threat: str = ""
    tags: tuple[str, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    valid_until: datetime | None = None
    tlp: Tlp = Tlp.AMBER  # unmarked intelligence is shared with care, not published

    def __post_init__(self) -> None:
        kind, value = normalise(IndicatorType.parse(str(self.type)), self.value)
        if len(value) > MAX_VALUE_LENGTH:
            msg = f"value is longer than {MAX_VALUE_LENGTH} characters"
            raise InputError(msg, Location(field="value"))
        source = self.source.strip()
        if not source or len(source) > 100:
            msg = f"source must be 1-100 characters, got {self.source!r}"
            raise InputError(msg, Location(field="source"))
        try:
            confidence = int(self.confidence)
        except (TypeError, ValueError):
            confidence = -1
        if isinstance(self.confidence, bool) or not 0 <= confidence <= 100:
            msg = f"confidence must be a whole number 0-100, got {self.confidence!r}"
            raise InputError(msg, Location(field="confidence"))
        if len(self.threat) > 200:
            msg = "threat name is longer than 200 characters"
            raise InputError(msg, Location(field="threat"))
        fields = {
            "type": kind,
            "value": value,
            "source": source,
            "severity": parse_severity(str(self.severity)),
            "confidence": confidence,
            "action": parse_action(str(self.action)),
            "threat": self.threat.strip(),
            "tags": tuple(sorted({t.strip().lower() for t in self.tags if t.strip()})),
            "tlp": parse_tlp(str(self.tlp)),
        }
        for name in ("first_seen", "last_seen", "valid_until"):
            moment = getattr(self, name)
            fields[name] = None if moment is None else as_utc(moment)
        for name, normalised in fields.items():
            object.__setattr__(self, name, normalised)

    @property
    def id(self) -> str:
        """Return the stable id of what is listed, the same whatever the source: ``type:value``."""
        return f"{self.type.value}:{self.value}"

    def active(self, now: datetime) -> bool:
        """Tell whether the indicator is still valid at ``now``."""
        return self.valid_until is None or self.valid_until > as_utc(now)
