"""Hash many passwords at once: SHA-1 (hashlib) and NTLM (MD4 of UTF-16LE, in numpy).

OpenSSL 3 no longer offers MD4 to ``hashlib``, so NTLM's MD4 is written here over
numpy arrays: every password of the same length in 64-byte blocks is compressed in
one pass of 48 vectorised steps, so a list of a million passwords costs a few
hundred array operations per block count, not a Python loop per password.

Hex text is decoded the same way, through a 256-entry table, for the store's
builder: a column of equal-length hex strings becomes an (n, bytes) array.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Bytes2D = npt.NDArray[np.uint8]

SHA1_BYTES = 20
NTLM_BYTES = 16

_INIT = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
_R1_SHIFTS = (3, 7, 11, 19)
_R2_ORDER = (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
_R2_SHIFTS = (3, 5, 9, 13)
_R3_ORDER = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
_R3_SHIFTS = (3, 9, 11, 15)
_R2_K = np.uint32(0x5A827999)
_R3_K = np.uint32(0x6ED9EBA1)

_HEX_VALUES = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX_VALUES[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX_VALUES[_c] = 10 + _i


def _rotl(x: npt.NDArray[np.uint32], s: int) -> npt.NDArray[np.uint32]:
    return (x << np.uint32(s)) | (x >> np.uint32(32 - s))


def _md4_blocks(words: npt.NDArray[np.uint32]) -> Bytes2D:
    """Return the MD4 digests of padded messages given as (n, blocks, 16) little-endian words."""
    n = words.shape[0]
    state = [np.full(n, v, dtype=np.uint32) for v in _INIT]
    for block in range(words.shape[1]):
        x = [words[:, block, i] for i in range(16)]
        a, b, c, d = state
        for i in range(16):
            f = (b & c) | (~b & d)
            a, b, c, d = d, _rotl(a + f + x[i], _R1_SHIFTS[i % 4]), b, c
        for i, k in enumerate(_R2_ORDER):
            g = (b & c) | (b & d) | (c & d)
            a, b, c, d = d, _rotl(a + g + x[k] + _R2_K, _R2_SHIFTS[i % 4]), b, c
        for i, k in enumerate(_R3_ORDER):
            h = b ^ c ^ d
            a, b, c, d = d, _rotl(a + h + x[k] + _R3_K, _R3_SHIFTS[i % 4]), b, c
        state = [state[0] + a, state[1] + b, state[2] + c, state[3] + d]
    digest = np.stack(state, axis=1).astype("<u4")
    return digest.view(np.uint8).reshape(n, 16)


def md4_many(messages: Sequence[bytes]) -> Bytes2D:
    """Return the MD4 digest of each message as an (n, 16) array, in order."""
    out = np.zeros((len(messages), 16), dtype=np.uint8)
    if not messages:
        return out
    lengths = np.fromiter((len(m) for m in messages), dtype=np.int64, count=len(messages))
    blocks = (lengths + 8) // 64 + 1  # room for the 0x80 byte and the 8-byte bit length
    for count in np.unique(blocks):
        rows = np.flatnonzero(blocks == count)
        size = int(count) * 64
        buffer = np.zeros((len(rows), size), dtype=np.uint8)
        for j, r in enumerate(rows):  # one copy per message; the rounds run per array
            m = messages[int(r)]
            buffer[j, : len(m)] = np.frombuffer(m, dtype=np.uint8)
        ends = lengths[rows]
        buffer[np.arange(len(rows)), ends] = 0x80
        bit_lengths = (ends * 8).astype("<u8").view(np.uint8).reshape(len(rows), 8)
        buffer[:, size - 8 :] = bit_lengths
        words = buffer.view("<u4").astype(np.uint32).reshape(len(rows), int(count), 16)
        out[rows] = _md4_blocks(words)
    return out


def ntlm_many(passwords: Sequence[str]) -> Bytes2D:
    """Return the NTLM hash (MD4 of the UTF-16LE text) of each password as an (n, 16) array."""
    return md4_many([p.encode("utf-16-le", "surrogatepass") for p in passwords])


def sha1_many(passwords: Sequence[str]) -> Bytes2D:
    """Return the SHA-1 of each password's UTF-8 text as an (n, 20) array."""
    joined = b"".join(hashlib.sha1(p.encode("utf-8", "surrogatepass")).digest() for p in passwords)
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(passwords), SHA1_BYTES).copy()


def hex_decode(text: npt.NDArray[np.uint8]) -> tuple[Bytes2D, npt.NDArray[np.bool_]]:
    """Decode an (n, 2k) array of ASCII hex digits into (n, k) bytes, and which rows were valid."""
    nibbles = _HEX_VALUES[text]
    valid = ~(nibbles == 255).any(axis=1)
    decoded = (nibbles[:, 0::2] << np.uint8(4)) | (nibbles[:, 1::2] & np.uint8(15))
    return decoded.astype(np.uint8), valid


def hex_upper(digests: Bytes2D) -> list[str]:
    """Return each row of bytes as upper-case hex text."""
    return [bytes(row).hex().upper() for row in digests]
