"""Counting checks without a write per check: a process adds its counts up and writes them a second later.

A check's only write is one more in its organisation's count of a reason for the
day. Made with every check, that upsert and its commit cost more CPU than the check
itself, and on SQLite every server process queues for the one writer. So the web
app keeps a ``CheckTally``: counts are added up in memory and written together, in
one transaction, ``FLUSH_SECONDS`` after the first of them (by a timer thread), when
the app shuts down, and before any reader in the same process reads them
(``write_pending``). A count that cannot be written stays pending for the next
write. What a killed process had not written, at most its last second of counts, is
lost; a count holds no password, hash or account, so nothing else can be.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import Counter
from datetime import date

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bastion.core.timeutil import utcnow
from bastion.passwords.models import PasswordCheckCountRow
from bastion.store import Store

FLUSH_SECONDS = 1.0

log = logging.getLogger(__name__)

Key = tuple[str, date, str]  # organisation, day, reason


def count_check(
    session: Session, org: str, reason: str, day: date | None = None, checks: int = 1
) -> None:
    """Add ``checks`` to ``org``'s count of ``reason`` on ``day`` (today): one upsert, safe
    under concurrency."""
    dialect = session.get_bind().dialect.name
    insert = postgres_insert if dialect == "postgresql" else sqlite_insert
    table: Table = PasswordCheckCountRow.__table__  # type: ignore[assignment]
    statement = insert(table).values(
        org_code=org, day=day or utcnow().date(), reason=reason, checks=checks
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["org_code", "day", "reason"], set_={"checks": table.c.checks + checks}
        )
    )


class CheckTally:
    """The counts of checks this process made and has not written to ``store`` yet."""

    def __init__(self, store: Store, seconds: float = FLUSH_SECONDS) -> None:
        self.store = store
        self.seconds = seconds
        self._pending: Counter[Key] = Counter()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        _tallies.add(self)

    def add(self, org: str, reason: str) -> None:
        """Count one check of ``org`` with ``reason`` today; written within ``seconds``."""
        with self._lock:
            self._pending[(org, utcnow().date(), reason)] += 1
            if self._timer is None:
                self._timer = threading.Timer(self.seconds, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Write every pending count now, in a transaction of its own."""
        pending = self.take()
        if not pending:
            return
        try:
            with self.store.session() as session:
                write(session, pending)
        except Exception:  # the store is down or gone: keep the counts for the next write
            log.warning("password check counts not written yet (%d kept)", pending.total())
            self.give_back(pending)

    def take(self) -> Counter[Key]:
        """Return and forget the pending counts."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        return pending

    def give_back(self, pending: Counter[Key]) -> None:
        """Keep counts that could not be written, for the next write."""
        with self._lock:
            self._pending.update(pending)

    def database(self) -> str:
        return str(self.store.engine.url)


_tallies: weakref.WeakSet[CheckTally] = weakref.WeakSet()


def write(session: Session, pending: Counter[Key]) -> None:
    """Add ``pending`` counts to the store in ``session``."""
    for (org, day, reason), checks in sorted(pending.items()):
        count_check(session, org, reason, day, checks)


def write_pending(session: Session) -> None:
    """Write the pending counts of this process's tallies on ``session``'s database into
    ``session``, so that a reader sees every check counted so far in this process."""
    database = str(session.get_bind().engine.url)
    for tally in list(_tallies):
        if tally.database() == database and (pending := tally.take()):
            write(session, pending)
