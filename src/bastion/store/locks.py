"""Named PostgreSQL advisory locks, for work that must not run twice at once across machines.

A name maps to a fixed 63-bit key. ``transaction_lock`` holds until the session's
transaction ends (commit or rollback, or the connection dies with its process); on
SQLite, where a writer already excludes every other, it does nothing.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session


def lock_key(name: str) -> int:
    """Return the advisory lock key of ``name``: a fixed positive 63-bit number."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1


def transaction_lock(session: Session, name: str) -> None:
    """Wait for, then hold until this transaction ends, the advisory lock ``name`` (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(name)})
