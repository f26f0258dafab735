"""Feeds: register them, pull them (conditionally, on their schedule), and keep every pull's history.

A pull is recorded whatever happens: ``ok`` (read cleanly), ``not_modified``
(the server said 304, or a TAXII collection has nothing new), ``partial`` (some
objects were bad: they are skipped and reported, the good ones stored), or
``failed`` (nothing could be read: unreachable, timed out, an error status, not
the format). A failed pull changes nothing already held; the next one tries again.
Only a clean pull of a snapshot feed expires what the feed no longer lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core import fetch
from bastion.core.errors import ConflictError, FetchError, InputError, Location
from bastion.core.records import from_row, must_exist
from bastion.core.timeutil import as_utc
from bastion.intel.feeds.base import FeedOptions, FeedState, Parsed
from bastion.intel.feeds.registry import FEED_TYPES, FILE_FORMATS, get_feed_type
from bastion.intel.lifecycle import deactivate_stale
from bastion.intel.models import FeedPullRow, FeedRow
from bastion.intel.service import _store_listings

_NAME_LIMIT = 100


@dataclass(frozen=True)
class Feed:
    """A registered feed."""

    name: str
    kind: str
    url: str
    interval_seconds: int
    options: dict[str, Any]
    enabled: bool
    last_pull_at: datetime | None
    etag: str | None
    last_modified: str | None
    cursor: str | None

    @property
    def interval(self) -> timedelta:
        """Return how often the feed is pulled."""
        return timedelta(seconds=self.interval_seconds)

    def due(self, now: datetime) -> bool:
        """Tell whether the feed should be pulled at ``now``."""
        return self.enabled and (
            self.last_pull_at is None or self.last_pull_at + self.interval <= as_utc(now)
        )


@dataclass(frozen=True)
class Pull:
    """One pull of a feed, as recorded."""

    id: int
    feed: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    http_status: int | None
    read: int
    added: int
    changed: int
    unchanged: int
    expired: int
    skipped: int
    reason: str
    problems: tuple[str, ...]


def _feed(row: FeedRow) -> Feed:
    return from_row(
        Feed, row, options={k: v for k, v in (row.options or {}).items() if k != "password"}
    )


def _pull(row: FeedPullRow, feed: str) -> Pull:
    return Pull(
        row.id, feed, row.started_at, row.finished_at, row.status, row.http_status, row.read,
        row.added, row.changed, row.unchanged, row.expired, row.skipped, row.reason,
        tuple(row.problems or ()),
    )  # fmt: skip


def add_feed(
    session: Session,
    name: str,
    kind: str,
    url: str,
    *,
    interval: timedelta = timedelta(hours=1),
    options: dict[str, Any] | None = None,
    actor: Actor,
    now: datetime,
) -> Feed:
    """Register a feed (audited); raise ConflictError if the name is taken, InputError if bad."""
    name = name.strip()
    if not name or len(name) > _NAME_LIMIT:
        msg = f"feed name must be 1-{_NAME_LIMIT} characters"
        raise InputError(msg, Location(field="name"))
    feed_type = get_feed_type(kind)
    if not url.startswith(("http://", "https://")):
        msg = f"feed URL must be http:// or https://, not {url!r}"
        raise InputError(msg, Location(field="url"))
    if interval < timedelta(minutes=1):
        msg = "poll interval must be at least one minute"
        raise InputError(msg, Location(field="interval"))
    parsed = FeedOptions.from_mapping(name, options or {})
    if feed_type.name == "csv" and not parsed.column:
        msg = "a csv feed needs --option column=NAME (or a 1-based number)"
        raise InputError(msg, Location(field="column"))
    if session.scalar(select(FeedRow).where(FeedRow.name == name)) is not None:
        msg = f"a feed called {name!r} exists already"
        raise ConflictError(msg)
    row = FeedRow(
        name=name,
        kind=feed_type.name,
        url=url,
        interval_seconds=int(interval.total_seconds()),
        options=parsed.stored(),
        enabled=True,
        created_at=as_utc(now),
    )
    session.add(row)
    session.flush()
    feed = _feed(row)
    audit.record(
        session,
        actor,
        "intel.feed_add",
        f"feed:{feed.name}",
        after={"kind": feed.kind, "url": feed.url, "interval_seconds": feed.interval_seconds},
    )
    return feed


def _row(session: Session, name: str) -> FeedRow:
    row = session.scalar(select(FeedRow).where(FeedRow.name == name.strip()))
    return must_exist(row, f"no feed called {name!r}; list them with `bastion intel feeds list`")


def list_feeds(session: Session) -> list[Feed]:
    """Return every feed, by name."""
    return [_feed(r) for r in session.scalars(select(FeedRow).order_by(FeedRow.name))]


def get_feed(session: Session, name: str) -> Feed:
    """Return one feed; raise NotFoundError."""
    return _feed(_row(session, name))


def _finish(row: FeedPullRow, parsed: Parsed | None, now: datetime) -> None:
    row.finished_at = now
    if parsed is not None:
        row.read = len(parsed.indicators)
        row.skipped = parsed.skipped
        row.problems = list(parsed.problems)


def pull_feed(
    session: Session,
    name: str,
    *,
    actor: Actor,
    now: datetime,
    client: httpx.Client | None = None,
) -> Pull:
    """Pull one feed now, store what it brings, and record the pull; return the record.

    The caller commits: the pull record, the listings it stored and its audit
    event (``intel.feed_pull``, a failed pull too) go together.
    """
    pull = _pull_feed(session, name, now=now, client=client)
    after = {"status": pull.status, "added": pull.added, "changed": pull.changed}
    audit.record(session, actor, "intel.feed_pull", f"feed:{pull.feed}", after=after)
    return pull


def _pull_feed(session: Session, name: str, *, now: datetime, client: httpx.Client | None) -> Pull:
    feed = _row(session, name)
    moment = as_utc(now)
    feed_type = get_feed_type(feed.kind)
    options = FeedOptions.from_mapping(feed.name, feed.options or {})
    record = FeedPullRow(feed_id=feed.id, started_at=moment, status="failed", reason="")
    session.add(record)
    session.flush()
    state = FeedState(feed.url, feed.etag, feed.last_modified, feed.cursor)
    own = client is None
    http = client or fetch.new_client()
    try:
        fetched = feed_type.fetch(http, state, options)
    except (FetchError, InputError) as exc:
        record.status = "failed"
        record.http_status = exc.status if isinstance(exc, FetchError) else None
        record.reason = str(exc)
        _finish(record, None, moment)
        feed.last_pull_at = moment
        session.flush()
        return _pull(record, feed.name)
    finally:
        if own:
            http.close()
    record.http_status = fetched.http_status
    feed.last_pull_at = moment
    feed.etag, feed.last_modified, feed.cursor = fetched.etag, fetched.last_modified, fetched.cursor
    parsed = fetched.parsed
    if parsed is None:
        record.status = "not_modified"
        record.reason = "nothing new since the last pull"
        _finish(record, None, moment)
        session.flush()
        return _pull(record, feed.name)
    # Listings are stored under the feed's own name whatever the content says.
    reason = f"feed {feed.name} pull {record.id}"
    stats = _store_listings(
        session, parsed.indicators, reason=reason, now=moment, pull_id=record.id
    )
    record.added, record.changed, record.unchanged = stats.created, stats.changed, stats.unchanged
    if parsed.skipped:
        record.status = "partial"
        record.reason = (
            f"{parsed.skipped} object(s) skipped, {len(parsed.indicators)} read; "
            "nothing expired by absence"
        )
    else:
        record.status = "ok"
        if feed_type.snapshot:
            keep = {(i.type.value, i.value) for i in parsed.indicators}
            record.expired = deactivate_stale(
                session,
                source=feed.name,
                keep=keep,
                reason=f"no longer listed by feed {feed.name} (pull {record.id})",
                now=moment,
                pull_id=record.id,
            )
    _finish(record, parsed, moment)
    session.flush()
    return _pull(record, feed.name)


def pull_due(
    session: Session, *, actor: Actor, now: datetime, client: httpx.Client | None = None
) -> list[Pull]:
    """Pull every enabled feed whose interval has passed since its last pull (each audited)."""
    due = [f.name for f in list_feeds(session) if f.due(now)]
    return [pull_feed(session, name, actor=actor, now=now, client=client) for name in due]


def feed_history(session: Session, name: str | None = None, *, limit: int = 50) -> list[Pull]:
    """Return the latest pulls (of one feed, or of all), newest first."""
    query = select(FeedPullRow, FeedRow.name).join(FeedRow)
    if name is not None:
        query = query.where(FeedRow.id == _row(session, name).id)
    rows = session.execute(query.order_by(FeedPullRow.id.desc()).limit(limit)).all()
    return [_pull(row, feed) for row, feed in rows]


# Files ---------------------------------------------------------------------------------


def detect_file_format(path: Path, content: bytes) -> str:
    """Name the format of an indicator file: bastion-csv/json, stix, misp-event or plain."""
    suffix = path.suffix.lower()
    head = content[:4096].lstrip()
    if head.startswith((b"{", b"[")):
        for name in ("stix", "misp-event"):
            detect = FEED_TYPES[name].detect
            if detect is not None and detect(content):
                return name
        return "bastion-json"
    first = next(
        (
            ln
            for ln in head.decode("utf-8", "replace").splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")
        ),
        "",
    )
    if suffix == ".csv" or ("value" in [c.strip().lower() for c in first.split(",")]):
        return "bastion-csv"
    detect = FEED_TYPES["plain"].detect
    if detect is not None and detect(content):
        return "plain"
    msg = f"cannot tell the format: give --format ({', '.join(FILE_FORMATS)})"
    raise InputError(msg, Location(str(path)))


def read_file(path: Path, fmt: str, options: FeedOptions) -> Parsed:
    """Read an indicator file of one of the ``FILE_FORMATS``."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read file: {exc}"
        raise InputError(msg, Location(str(path))) from None
    return FILE_FORMATS.get(fmt, Location(field="format"))(content, options, str(path))
