"""DKIM keys of a mail domain: which selectors to ask, and what a key record says.

DKIM keys cannot be listed: a verifier asks ``<selector>._domainkey.<domain>``
for a selector it was told. So the selectors asked are the ones the organisation
registered (``bastion scan policy ORG --dkim SELECTOR`` or ``SELECTOR@DOMAIN``),
else the common selectors of the big mail services. A registered selector with
no key is a finding; so is a key under 2048 bits (under 1024: high, it can be
factored), and a key still flagged ``t=y`` (testing: receivers may ignore it).
Finding no key at any common selector is low: the selectors may simply be unknown.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key

from bastion.core.types import Severity

# Selectors of the common mail services and software (Microsoft 365, Google, Mailchimp…).
COMMON_SELECTORS = (
    "selector1", "selector2", "google", "default", "dkim", "mail", "k1", "k2", "s1", "s2",
    "smtp", "mxvault",
)  # fmt: skip
STRONG_BITS = 2048
BREAKABLE_BITS = 1024


@dataclass(frozen=True)
class DkimKey:
    """What one selector of a domain holds."""

    selector: str
    registered: bool  # the organisation registered it (else: one of the common selectors)
    record: str | None = None  # the TXT record; None when there is none
    key_type: str = ""
    bits: int = 0
    testing: bool = False
    error: str = ""  # why the key could not be read
    lookup_error: str = ""  # the DNS query failed: nothing is known of this selector


def selectors_for(registered: tuple[str, ...], domain: str) -> tuple[tuple[str, ...], bool]:
    """Return the selectors to ask for ``domain`` and whether they are the registered ones."""
    mine = []
    for entry in registered:
        selector, _, only = entry.partition("@")
        if not only or only.lower().rstrip(".") == domain.lower().rstrip("."):
            mine.append(selector.lower())
    return (tuple(dict.fromkeys(mine)), True) if mine else (COMMON_SELECTORS, False)


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags[key.strip().lower()] = "".join(value.split())
    return tags


def read_key(selector: str, registered: bool, record: str | None) -> DkimKey:
    """Read one selector's TXT record (None: no record)."""
    if record is None:
        return DkimKey(selector, registered)
    tags = _tags(record)
    testing = "y" in tags.get("t", "").lower().split(":")
    key_type = tags.get("k", "rsa").lower()
    data = tags.get("p", "")
    if not data:
        return DkimKey(selector, registered, record, key_type, testing=testing, error="revoked")
    try:
        raw = base64.b64decode(data, validate=True)
        if key_type == "ed25519":  # RFC 8463: the bare 32-byte key, not a DER structure
            Ed25519PublicKey.from_public_bytes(raw)
            return DkimKey(selector, registered, record, key_type, 256, testing)
        key = load_der_public_key(raw)
    except (ValueError, binascii.Error) as exc:
        return DkimKey(selector, registered, record, key_type, testing=testing, error=str(exc))
    bits = key.key_size if isinstance(key, rsa.RSAPublicKey) else 0
    return DkimKey(selector, registered, record, key_type, bits, testing)


def problems(domain: str, keys: tuple[DkimKey, ...]) -> list[tuple[str, str, Severity, str]]:
    """Return (detail, title, severity, what was seen) for each DKIM problem of ``domain``."""
    found = []
    present = [k for k in keys if k.record is not None and not k.error]
    unknown = any(k.lookup_error for k in keys)
    if keys and not keys[0].registered and not present and not unknown:
        asked = ", ".join(k.selector for k in keys)
        found.append(
            ("dkim:none-found", "No DKIM key found at the common selectors", Severity.LOW,
             f"no DKIM key at {asked} (._domainkey.{domain})")
        )  # fmt: skip
    for key in keys:
        where = f"{key.selector}._domainkey.{domain}"
        if key.lookup_error:
            continue
        if key.registered and (key.record is None or key.error):
            why = "no TXT record" if key.record is None else f"unusable key ({key.error})"
            found.append(
                (f"dkim:missing:{key.selector}", f"DKIM key missing for selector {key.selector}",
                 Severity.MEDIUM, f"{where}: {why}")
            )  # fmt: skip
            continue
        if key.record is None or key.error:
            continue
        if key.key_type == "rsa" and key.bits < STRONG_BITS:
            severity = Severity.HIGH if key.bits < BREAKABLE_BITS else Severity.MEDIUM
            found.append(
                (f"dkim:weak-key:{key.selector}", f"DKIM key of {key.bits} bits", severity,
                 f"{where}: RSA {key.bits} bits; {key.record[:200]}")
            )  # fmt: skip
        if key.testing:
            found.append(
                (f"dkim:testing:{key.selector}", "DKIM key still in testing mode", Severity.LOW,
                 f"{where}: t=y; {key.record[:200]}")
            )  # fmt: skip
    return found
