"""DKIM key records for the lab's DNS zone: real RSA public keys of a chosen size.

``cryptography`` will not make an RSA key under 1024 bits, so a short key's
modulus is built here from two random primes (Miller-Rabin, 40 rounds): the
record is what a badly set-up mail server publishes. Only the public half exists.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _probably_prime(n: int, rounds: int = 40) -> bool:
    if n % 2 == 0:
        return n == 2
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int) -> int:
    while True:
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1  # top two bits: n has 2*bits
        if _probably_prime(candidate):
            return candidate


def public_key(bits: int) -> rsa.RSAPublicKey:
    """Return an RSA public key of exactly ``bits`` bits."""
    if bits >= 1024:
        return rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    return rsa.RSAPublicNumbers(65537, _prime(bits // 2) * _prime(bits // 2)).public_key()


def dkim_record(bits: int, *, testing: bool = False) -> str:
    """Return a DKIM key record (``v=DKIM1; k=rsa; p=…``) as zone-file TXT strings."""
    der = public_key(bits).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    data = base64.b64encode(der).decode()
    flag = "t=y; " if testing else ""
    text = f"v=DKIM1; k=rsa; {flag}p={data}"
    return " ".join(f'"{text[i : i + 200]}"' for i in range(0, len(text), 200))
