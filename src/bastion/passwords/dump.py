"""Audit the passwords a directory already uses, from an export of its NTLM hashes.

Reads the common dump format (``user:rid:lm:nt:::``) and ``user,nthash`` CSV, and
reports which accounts use a breached password, which share one with another
account, and which have none. The report names accounts only: the hashes stay in
this process and are gone when it ends. A line that cannot be read is reported by
its number, never echoed (it may hold a hash).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bastion.core.errors import InputError
from bastion.passwords.hashing import hex_decode
from bastion.passwords.store import BreachStore

EMPTY_NT = "31D6CFE0D16AE931B73C59D7E0C089C0"  # NTLM of the empty password
MAX_BAD_LINES = 1000


@dataclass
class DumpReport:
    """What the audit found, by account name; no hash is kept."""

    org: str
    accounts: int = 0
    breached: list[str] = field(default_factory=list)
    shared: list[list[str]] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)


def read_dump(path: Path) -> tuple[list[str], list[str], list[int]]:
    """Return the accounts, their NT hashes (upper-case hex) and the numbers of unreadable lines."""
    if not path.is_file():
        msg = f"{path}: no such file"
        raise InputError(msg)
    users: list[str] = []
    hashes: list[str] = []
    bad: list[int] = []
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or (
                number == 1 and line.lower().replace(" ", "") in {"user,nthash", "username,nthash"}
            ):
                continue
            parts = line.split(":") if ":" in line else line.split(",")
            if ":" in line and len(parts) >= 4:
                user, nt = parts[0], parts[3]
            elif ":" not in line and len(parts) == 2:
                user, nt = parts
            else:
                bad.append(number)
                continue
            nt = nt.strip().upper()
            if not user.strip() or len(nt) != 32 or any(c not in "0123456789ABCDEF" for c in nt):
                bad.append(number)
                continue
            users.append(user.strip())
            hashes.append(nt)
    return users, hashes, bad


def audit_dump(
    org: str, path: Path, store: BreachStore, *, min_breach_count: int = 1
) -> DumpReport:
    """Audit an NTLM dump of ``org``'s directory against the NTLM breached-password store."""
    users, hashes, bad = read_dump(path)
    report = DumpReport(org=org, accounts=len(users), bad_lines=bad[:MAX_BAD_LINES])
    if not users:
        return report
    text = np.frombuffer("".join(hashes).encode("ascii"), dtype=np.uint8).reshape(len(hashes), 32)
    digests, _ = hex_decode(text)
    counts = store.lookup(digests, exact=True)
    groups: dict[str, list[str]] = {}
    for user, nt, count in zip(users, hashes, counts.tolist(), strict=True):
        if nt == EMPTY_NT:
            report.empty.append(user)
        elif count >= min_breach_count:
            report.breached.append(user)
        groups.setdefault(nt, []).append(user)
    report.shared = sorted(sorted(g) for nt, g in groups.items() if len(g) > 1 and nt != EMPTY_NT)
    report.breached.sort()
    report.empty.sort()
    return report
