"""Writes that can wait for the request's commit: when a session or a token was last used.

Checking who calls is the first thing a request does, and it only reads; writing
"last used" there at once would hold SQLite's write lock for the whole request,
while other connections (the rate limiter's) wait on it. ``later`` queues the
statement on the ORM session; it runs just before that session commits, and not
at all when the request fails and rolls back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, event
from sqlalchemy.orm import Session

_KEY = "bastion.auth.later"


def later(session: Session, statement: Executable, params: dict[str, Any]) -> None:
    """Run ``statement`` with ``params`` on ``session`` just before it commits."""
    session.info.setdefault(_KEY, []).append((statement, params))


@event.listens_for(Session, "before_commit")
def _run_queued(session: Session) -> None:
    for statement, params in session.info.pop(_KEY, ()):
        session.execute(statement, params)


@event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    session.info.pop(_KEY, None)
