"""Fixtures every test may use: a migrated store on SQLite and, where it answers, PostgreSQL.

A test that needs a service skips locally when the service is absent, and fails
under CI=true: CI must exercise it.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner, Result

import bastion.models
from bastion.cli import context
from bastion.cli.main import app
from bastion.store import Base, Store, upgrade
from bastion.store.migrate import alembic_config

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "BASTION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse ``xdist_group``: with pytest 9.2 and pytest-xdist 3.8 it groups nothing.

    `make test` runs the tests on pytest-xdist workers; ``--dist loadgroup`` no longer
    keeps a group on one worker (pytest-xdist issue 1386) and says nothing. A test that
    cannot share a resource with another worker takes one of its own instead (a name
    with a random part, a free port, a Redis database per worker).
    """
    grouped = [item.nodeid for item in items if item.get_closest_marker("xdist_group")]
    if grouped:
        raise pytest.UsageError(f"xdist_group does not group tests here: {grouped[:3]}")


def need_service(what: str) -> None:
    """Skip the test locally, or fail it under CI, because ``what`` is not available."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is not available here")


def own_stream(
    monkeypatch: pytest.MonkeyPatch, nats_url: str, module: object, name: str, consumer: str
) -> Iterator[str]:
    """Give ``module`` (its STREAM, SUBJECT_PREFIX, CONSUMER) a JetStream stream of the
    test's own, named ``name`` plus a random tag; delete the stream afterwards."""
    import asyncio

    from bastion.core import bus

    stream = f"{name}_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.setattr(module, "STREAM", stream)
    monkeypatch.setattr(module, "SUBJECT_PREFIX", f"bastion-test.{stream.lower()}")
    monkeypatch.setattr(module, "CONSUMER", f"{stream.lower()}-{consumer}")
    yield stream

    async def delete() -> None:
        nc = await bus.connect(nats_url)
        try:
            await nc.jetstream().delete_stream(stream)
        finally:
            await nc.close()

    asyncio.run(delete())


@pytest.fixture(scope="session")
def nats_url() -> str:
    """The NATS JetStream server for tests (skips locally when absent, fails under CI)."""
    url = os.environ.get("BASTION_TEST_NATS_URL", "nats://127.0.0.1:4222")
    host, _, port = url.removeprefix("nats://").partition(":")
    try:
        socket.create_connection((host, int(port or 4222)), timeout=2).close()
    except OSError:
        need_service(f"NATS JetStream at {url}")
    return url


@pytest.fixture
def shared_data() -> Path:
    """The real public data in ../shared/data (absent locally means skip; in CI, fail)."""
    if not SHARED_DATA.is_dir():
        need_service(f"shared data folder {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest schema, migrated once a session (once per xdist worker).

    Migrating costs half a second, copying the file a millisecond: every SQLite store
    of the tests starts as a copy of this one (see `sqlite_copy`).
    """
    path = tmp_path_factory.mktemp("migrated") / "bastion.db"
    store = Store.from_url(f"sqlite:///{path}")
    upgrade(store.engine)
    store.dispose()  # the last connection closed: the WAL is checkpointed into the file
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


def sqlite_copy(migrated: Path, path: Path) -> Store:
    """Return a store over a copy (at ``path``) of the ``migrated`` SQLite file."""
    shutil.copyfile(migrated, path)
    return Store.from_url(f"sqlite:///{path}")


def initialised_data(migrated: Path, data: Path) -> Path:
    """Make ``data`` a data directory as `bastion init` leaves it, without migrating again:
    its archive folder, and a copy of the ``migrated`` SQLite file as its database."""
    (data / "archive").mkdir(parents=True)
    shutil.copyfile(migrated, data / "bastion.db")
    return data


@pytest.fixture
def sqlite_store(tmp_path: Path, migrated_sqlite: Path) -> Iterator[Store]:
    """A SQLite store at the newest schema, a file of this test's own."""
    store = sqlite_copy(migrated_sqlite, tmp_path / "bastion.db")
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except OperationalError:
        need_service(f"PostgreSQL at {POSTGRES_ADMIN_URL}")
    finally:
        engine.dispose()
    return POSTGRES_ADMIN_URL


def _create_database(admin_url: str, template: str | None = None) -> Iterator[str]:
    name = f"bastion_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    clause = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    yield from _create_database(postgres_admin_url)


@pytest.fixture(scope="session")
def _postgres_session_store(postgres_admin_url: str) -> Iterator[Store]:
    for url in _create_database(postgres_admin_url):
        store = Store.from_url(url)
        upgrade(store.engine)
        yield store
        store.dispose()


@pytest.fixture(scope="session")
def schema_heads() -> set[str]:
    """The newest revision of every migration branch (what `upgrade` migrates to)."""
    from alembic.script import ScriptDirectory

    engine = create_engine("sqlite://")  # the config wants an engine; the scripts need none
    try:
        return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    finally:
        engine.dispose()


@pytest.fixture
def postgres_store(_postgres_session_store: Store, schema_heads: set[str]) -> Store:
    """A PostgreSQL database at the newest schema with every table emptied.

    One database serves the whole session (one per xdist worker): creating and
    dropping a database per test costs a checkpoint each. Emptying it truncates only
    the tables a test wrote to (each truncated table costs a file of its own) and
    restarts every sequence used since, so ids start at 1 as in a new database.
    """
    store = _postgres_session_store
    with store.engine.connect() as conn:
        at = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if at != schema_heads:
        upgrade(store.engine)  # a test migrated down
    with store.engine.begin() as conn:
        present = set(inspect(conn).get_table_names())
        tables = [t.name for t in Base.metadata.sorted_tables if t.name in present]
        probe = " UNION ALL ".join(
            f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables
        )
        written = conn.execute(text(probe)).scalars().all() if tables else []
        if written:
            names = ", ".join(f'"{name}"' for name in written)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        used = conn.execute(
            text(
                "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences"
                " WHERE last_value IS NOT NULL"
            )
        ).scalars()
        for sequence in used.all():
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
    return store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    """A migrated store, once on SQLite and once on PostgreSQL."""
    name = "sqlite_store" if request.param == "sqlite" else "postgres_store"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


Run = Callable[..., Result]


@contextmanager
def bastion_in(folder: Path, patch: pytest.MonkeyPatch) -> Iterator[Run]:
    """Run `bastion ARGS…` in-process with ``folder / "data"`` as its data directory."""
    patch.chdir(folder)
    patch.setenv("BASTION_DATA_DIR", str(folder / "data"))
    patch.delenv("BASTION_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        context.settings.cache_clear()
        context.store.cache_clear()
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    yield run
    if context.store.cache_info().currsize:
        context.store().dispose()  # the last connection closed: the WAL is in the file
    context.settings.cache_clear()
    context.store.cache_clear()


@pytest.fixture
def bastion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """Run `bastion ARGS…` in-process against a fresh data directory; returns the click Result."""
    with bastion_in(tmp_path, monkeypatch) as run:
        yield run
