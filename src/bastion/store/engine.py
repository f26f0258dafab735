"""The SQL engine: embedded SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bastion.core.errors import ConfigError, StoreError


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine for ``url``; a SQLite file's folder is created if missing.

    ``options`` go to ``create_engine`` (a pool's size and timeout, for instance).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        msg = f"invalid database URL {url!r}: {exc}"
        raise ConfigError(msg) from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


# Connections of the side pool (``Store.transaction``): short statements beside a session.
SIDE_POOL = 4


def _side_engine(engine: Engine) -> Engine:
    """Return a small engine of its own on ``engine``'s database (an in-memory SQLite
    database exists in its engine only: that engine itself)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return engine
        side = create_engine(url, pool_size=SIDE_POOL, max_overflow=0)
        event.listen(side, "connect", _sqlite_pragmas)
        return side
    return create_engine(url, pool_size=SIDE_POOL, max_overflow=0, pool_pre_ping=True)


class Store:
    """The engine plus a session factory; one per process.

    Beside the sessions' pool it owns a small side pool, for the short statements
    a request makes while its session holds a pooled connection (the rate-limit
    counters): taken from the sessions' pool, those would wait for a connection
    that only requests waiting the same way can give back, and the pool deadlocks
    once every connection is held by one of them. The side pool is opened on its
    first use and disposed with the store.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._side: Engine | None = None
        self._side_lock = threading.Lock()

    @property
    def side_engine(self) -> Engine:
        """The side pool's engine (see the class): opened on first use."""
        with self._side_lock:
            if self._side is None:
                self._side = _side_engine(self.engine)
            return self._side

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Store:
        return cls(make_engine(url, **options))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session that commits on success and rolls back on error."""
        session = self.open_session()
        try:
            yield session
        except BaseException as exc:
            self.finish(session, exc)
            raise
        self.finish(session)

    def open_session(self) -> Session:
        """Return a new session (no connection is taken before its first statement); end it
        with ``finish``. ``session()`` is both in one context manager."""
        return self._sessions()

    def finish(self, session: Session, error: BaseException | None = None) -> None:
        """Commit ``session`` (roll it back after ``error``) and close it; a database error,
        the commit's or ``error`` itself, is raised as a StoreError."""
        try:
            if error is None:
                session.commit()
            else:
                session.rollback()
        except OperationalError as exc:
            session.rollback()
            error = exc
        finally:
            session.close()
        if isinstance(error, OperationalError):
            msg = f"database error: {error.orig}; is the database running and migrated (`bastion init`)?"
            raise StoreError(msg) from error

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Open a plain connection (no ORM) of the side pool in a transaction: committed on
        success.

        For small statements on a hot path, where building a session costs more
        than the statements do, and which may run while the caller's session holds a
        connection of the sessions' pool.
        """
        try:
            with self.side_engine.begin() as connection:
                yield connection
        except OperationalError as exc:
            msg = f"database error: {exc.orig}; is the database running and migrated (`bastion init`)?"
            raise StoreError(msg) from exc

    def dispose(self) -> None:
        with self._side_lock:
            side, self._side = self._side, None
        if side is not None and side is not self.engine:
            side.dispose()
        self.engine.dispose()
