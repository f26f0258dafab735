"""A breached-password store built once from the NCSC top-100k list plus generated HIBP output.

The reference is computed beside it with hashlib (SHA-1) and PyCryptodome (MD4, as
OpenSSL 3 refuses it): ``reference[mode]`` maps each upper-case hex hash to the count
the store must hold (the highest any source gave).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from Crypto.Hash import MD4
from tests.conftest import SHARED_DATA

from bastion.passwords import Builder, source

NCSC = SHARED_DATA / "passwords" / "ncsc-pwned-passwords-top100k.txt"
NCSC_BANNER_LINES = 6


def ntlm_reference(password: str) -> str:
    return MD4.new(password.encode("utf-16-le")).hexdigest().upper()


def sha1_reference(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()


def ncsc_passwords() -> list[str]:
    lines = NCSC.read_text(encoding="utf-8").split("\n")[NCSC_BANNER_LINES:]
    return [line.removesuffix("\r") for line in lines if line.removesuffix("\r")]


@dataclass
class Corpus:
    root: Path
    passwords: list[str]
    reference: dict[str, dict[str, int]]


def write_hibp(
    folder: Path, rng: random.Random, reference: dict[str, dict[str, int]], known: list[str]
) -> list[Path]:
    """Write HIBP downloader output: one SHA-1 file, one NTLM file, and a per-prefix folder."""
    sha1_lines: list[str] = []
    for password in known[:500]:  # some list passwords again, with real-looking counts
        digest, count = sha1_reference(password), rng.randint(2, 40_000_000)
        sha1_lines.append(f"{digest}:{count}")
        reference["sha1"][digest] = max(reference["sha1"].get(digest, 0), count)
    for _ in range(20_000):
        digest, count = f"{rng.getrandbits(160):040X}", rng.choice([1, 7, 15, 16, 999, 3_000_000])
        sha1_lines.append(f"{digest}:{count}")
        reference["sha1"][digest] = max(reference["sha1"].get(digest, 0), count)
    ntlm_lines = []
    for _ in range(10_000):
        digest, count = f"{rng.getrandbits(128):032X}", rng.randint(1, 5000)
        ntlm_lines.append(f"{digest}:{count}")
        reference["ntlm"][digest] = max(reference["ntlm"].get(digest, 0), count)
    (folder / "sha1.txt").write_text("\r\n".join(sha1_lines) + "\r\n", encoding="ascii")
    (folder / "ntlm.txt").write_text("\n".join(ntlm_lines) + "\n", encoding="ascii")
    ranges = folder / "ranges"
    ranges.mkdir()
    by_prefix: dict[str, list[str]] = {}
    for _ in range(5_000):
        digest, count = f"{rng.getrandbits(160):040X}", rng.randint(1, 100)
        by_prefix.setdefault(digest[:5], []).append(f"{digest[5:]}:{count}")
        reference["sha1"][digest] = max(reference["sha1"].get(digest, 0), count)
    for prefix, lines in by_prefix.items():
        (ranges / f"{prefix}.txt").write_text("\r\n".join(lines), encoding="ascii")
    return [folder / "sha1.txt", folder / "ntlm.txt", ranges]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    if not NCSC.is_file():
        pytest.skip(f"{NCSC} is not here")
    folder = tmp_path_factory.mktemp("passwords")
    passwords = ncsc_passwords()
    reference: dict[str, dict[str, int]] = {"sha1": {}, "ntlm": {}}
    for password in passwords:
        reference["sha1"][sha1_reference(password)] = 1
        reference["ntlm"][ntlm_reference(password)] = 1
    hibp = write_hibp(folder, random.Random(18), reference, passwords)
    root = folder / "store"
    sources = [source(NCSC, skip_lines=NCSC_BANNER_LINES), *(source(p) for p in hibp)]
    Builder(root, sources).run()
    return Corpus(root, passwords, reference)
