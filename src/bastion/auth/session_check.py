"""Checking a request's session cookie cheaply: one indexed query, the person's principal cached.

Every signed-in request asks whose it is. The session's row, with its user's
``disabled`` flag and ``updated_at``, is read on every request (one query on the
session's unique hash; its last use is written at commit, ``touch``), so signing out, ending a session, its expiry and a
disabled account take effect at once, in every server process. What the person
may do and see (national role and memberships: a second query and an object
graph) is kept in a small per-process ``PrincipalCache`` keyed by the user's id
and ``updated_at``. Every change of a role, a membership, a password or a second
factor goes through ``users._change``, which moves ``updated_at`` forward, so a
changed person misses the cache and is read afresh by the very next request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session, selectinload

from bastion.auth.models import SessionRow, UserRow
from bastion.auth.principal import Principal
from bastion.auth.signin import SESSION_IDLE, STAGE_FULL, session_hash
from bastion.auth.touch import later
from bastion.auth.users import principal_of
from bastion.core.timeutil import as_utc, utcnow

CACHE_SIZE = 4096  # people whose principal one process keeps
CACHE_SECONDS = 300.0  # and for how long at most, whatever else happens

_S: Table = SessionRow.__table__  # type: ignore[assignment]
_U: Table = UserRow.__table__  # type: ignore[assignment]
_SESSION = (
    select(
        _S.c.id,
        _S.c.stage,
        _S.c.csrf_token,
        _S.c.last_seen_at,
        _S.c.expires_at,
        _U.c.id,
        _U.c.disabled,
        _U.c.updated_at,
    )
    .select_from(_S.outerjoin(_U, _U.c.id == _S.c.user_id))
    .where(_S.c.token_hash == bindparam("p_hash"))
)
_TOUCH = update(_S).where(_S.c.id == bindparam("p_id")).values(last_seen_at=bindparam("p_at"))
_END = delete(_S).where(_S.c.id == bindparam("p_id"))


@dataclass(frozen=True)
class CheckedSession:
    """A live session a request presented: its stage, CSRF token and the caller."""

    id: int
    stage: str
    csrf_token: str
    principal: Principal


class PrincipalCache:
    """The principals of recently seen people, by (user id, ``updated_at``), least recent out first.

    One per app (``create_app`` makes it), so two apps on two stores never share one.
    """

    def __init__(self, size: int = CACHE_SIZE, seconds: float = CACHE_SECONDS) -> None:
        self.size = size
        self.seconds = seconds
        self._entries: OrderedDict[tuple[int, datetime], tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, datetime]) -> Principal | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] < time.monotonic():
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: tuple[int, datetime], principal: Principal) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.seconds, principal)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def check_session(
    session: Session,
    cookie: str,
    cache: PrincipalCache,
    *,
    ip: str = "",
    now: datetime | None = None,
) -> CheckedSession | None:
    """Return the live session of ``cookie`` with its caller; None when absent, over or disabled.

    Answers as ``signin.find_session`` does (an ended session is deleted, last use
    is written at most once a minute), reading the person's roles from ``cache``
    unless they changed.
    """
    if not cookie or len(cookie) > 128:
        return None
    moment = now or utcnow()
    connection = session.connection()
    found = connection.execute(_SESSION, {"p_hash": session_hash(cookie)}).first()
    if found is None:
        return None
    session_id, stage, csrf, last_seen, expires, user_id, disabled, changed = found
    last_seen = as_utc(last_seen)
    idle_over = stage == STAGE_FULL and last_seen + SESSION_IDLE < moment
    if user_id is None or disabled or as_utc(expires) < moment or idle_over:
        connection.execute(_END, {"p_id": session_id})
        return None
    if moment - last_seen > timedelta(minutes=1):
        later(session, _TOUCH, {"p_id": session_id, "p_at": moment})
    key = (int(user_id), as_utc(changed))
    principal = cache.get(key)
    if principal is None:
        user = session.scalar(
            select(UserRow).where(UserRow.id == user_id).options(selectinload(UserRow.memberships))
        )
        if user is None:
            return None
        principal = principal_of(user)
        cache.put(key, principal)
    return CheckedSession(session_id, stage, csrf, replace(principal, ip=ip))
