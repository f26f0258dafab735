"""A letter grade for a TLS service in the style of SSL Labs, from the caps its weaknesses set.

The grade starts at A and each weakness caps it; the worst cap wins, and every
cap that applied is kept as the grade's reason:

=========================================================  ====
weakness                                                   cap
=========================================================  ====
certificate expired, self-signed or not trusted            F
certificate not issued for the host's name                 F
certificate signed with MD5; RSA key under 1024 bits       F
SSL 2.0 accepted; vulnerable to Heartbleed                 F
vulnerable to OpenSSL CCS injection; to ROBOT              F
SSL 3.0 accepted                                           C
RC4 or a 64-bit block cipher (3DES) accepted               C
TLS 1.0 or TLS 1.1 accepted                                B
RSA key under 2048 bits (EC under 256)                     B
no forward secrecy (no ECDHE/DHE suite accepted)           B
certificate signed with SHA-1                              B
TLS 1.3 not supported                                      A-
=========================================================  ====
"""

from __future__ import annotations

from dataclasses import dataclass

ORDER = ("A+", "A", "A-", "B", "C", "D", "E", "F")


@dataclass(frozen=True)
class TlsFacts:
    """What the grade is computed from."""

    protocols: tuple[str, ...]  # "SSL 2.0" … "TLS 1.3" accepted
    ciphers: tuple[str, ...]  # OpenSSL names of the accepted suites
    expired: bool
    self_signed: bool
    trusted: bool
    hostname_matches: bool
    key_type: str
    key_bits: int
    signature_hash: str
    heartbleed: bool
    ccs_injection: bool
    robot: bool = False  # a Bleichenbacher oracle (strong or weak) was found


def caps(facts: TlsFacts) -> list[tuple[str, str]]:
    """Return every (cap, reason) that applies, worst first."""
    found: list[tuple[str, str]] = []
    add = found.append
    if facts.expired:
        add(("F", "certificate expired"))
    if facts.self_signed:
        add(("F", "certificate self-signed"))
    elif not facts.trusted:
        add(("F", "certificate not trusted"))
    if not facts.hostname_matches:
        add(("F", "certificate not issued for the host's name"))
    if facts.signature_hash == "md5":
        add(("F", "certificate signed with MD5"))
    if facts.key_type == "RSA" and facts.key_bits < 1024:
        add(("F", f"RSA key of {facts.key_bits} bits"))
    if "SSL 2.0" in facts.protocols:
        add(("F", "SSL 2.0 accepted"))
    if facts.heartbleed:
        add(("F", "vulnerable to Heartbleed"))
    if facts.ccs_injection:
        add(("F", "vulnerable to OpenSSL CCS injection"))
    if facts.robot:
        add(("F", "vulnerable to ROBOT"))
    if "SSL 3.0" in facts.protocols:
        add(("C", "SSL 3.0 accepted"))
    if any("RC4" in c or "DES-CBC3" in c or "3DES" in c for c in facts.ciphers):
        add(("C", "RC4 or 3DES cipher accepted"))
    for old in ("TLS 1.0", "TLS 1.1"):
        if old in facts.protocols:
            add(("B", f"{old} accepted"))
    weak_key = (facts.key_type == "RSA" and 1024 <= facts.key_bits < 2048) or (
        facts.key_type == "EC" and facts.key_bits < 256
    )
    if weak_key:
        add(("B", f"{facts.key_type} key of {facts.key_bits} bits"))
    forward = [c for c in facts.ciphers if "ECDHE" in c or "DHE" in c or c.startswith("TLS_")]
    if facts.ciphers and not forward:
        add(("B", "no forward secrecy"))
    if facts.signature_hash == "sha1":
        add(("B", "certificate signed with SHA-1"))
    if "TLS 1.3" not in facts.protocols:
        add(("A-", "TLS 1.3 not supported"))
    return sorted(found, key=lambda cap: -ORDER.index(cap[0]))


def grade(facts: TlsFacts) -> tuple[str, list[str]]:
    """Return the grade and the reasons for it (empty for a clean A)."""
    found = caps(facts)
    if not found:
        return "A", []
    return found[0][0], [reason for _, reason in found]
