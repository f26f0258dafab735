"""Intelligence intake: import parsed records, and feeds fetched from URLs on a schedule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.advisories.exposure import match_vulnerabilities
from bastion.advisories.importers import INTEL_FORMATS, parse_intel, read_intel
from bastion.advisories.models import FeedRow
from bastion.advisories.vulnerabilities import save_epss, save_records
from bastion.advisories.vulns import ImportResult
from bastion.audit import Actor
from bastion.core import fetch
from bastion.core.errors import BastionError, ConflictError, InputError, NotFoundError
from bastion.core.timeutil import as_utc, utcnow

TIMEOUT = 60.0  # seconds: vulnerability dumps are large and their servers slow


@dataclass(frozen=True)
class IntelReport:
    """What an intelligence import did."""

    source: str
    format: str
    records: int
    created: int
    updated: int
    epss: int
    exposures_created: int
    warnings: tuple[str, ...] = ()


def import_intel(
    session: Session, result: ImportResult, source: str, *, actor: Actor
) -> IntelReport:
    """Store parsed records and scores, then match the changed vulnerabilities; audited once."""
    saved = save_records(session, result.records)
    epss = save_epss(session, result.epss)
    exposures = match_vulnerabilities(session, saved.vuln_ids)
    audit.record(
        session, actor, "vulnerability.import", f"source:{source}",
        after={"format": result.format, "records": len(result.records), "epss": epss},
    )  # fmt: skip
    return IntelReport(
        source, result.format, len(result.records), saved.created, saved.updated, epss, exposures,
        tuple(result.warnings),
    )  # fmt: skip


def import_path(
    session: Session, path: Path, fmt: str | None = None, *, actor: Actor
) -> IntelReport:
    """Read a file, folder or zip dump and import it."""
    return import_intel(session, read_intel(path, fmt), str(path), actor=actor)


def import_url(
    session: Session,
    url: str,
    fmt: str | None = None,
    *,
    actor: Actor,
    client: httpx.Client | None = None,
) -> IntelReport:
    """Fetch ``url`` once (through ``client``, or a new one) and import what it holds."""
    with _client(client) as http:
        download = fetch.get(http, url, timeout=TIMEOUT)
    assert download.body is not None  # an unconditional GET has a body
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    return import_intel(session, parse_intel(download.body, name, fmt), url, actor=actor)


@contextmanager
def _client(given: httpx.Client | None) -> Iterator[httpx.Client]:
    """Yield ``given``, or a new client closed afterwards."""
    if given is not None:
        yield given
        return
    with fetch.new_client() as own:
        yield own


@dataclass(frozen=True)
class Feed:
    name: str
    url: str
    format: str | None
    interval_minutes: int
    last_run_at: datetime | None
    last_status: str


def _feed(row: FeedRow) -> Feed:
    return Feed(
        row.name, row.url, row.format, row.interval_minutes, row.last_run_at, row.last_status
    )


def add_feed(
    session: Session,
    name: str,
    url: str,
    fmt: str | None = None,
    interval_minutes: int = 1440,
    *,
    actor: Actor,
) -> Feed:
    """Register a feed fetched every ``interval_minutes`` (audited)."""
    if fmt is not None:
        INTEL_FORMATS.get(fmt)  # an unknown name is refused, naming the formats
    if not url.startswith(("http://", "https://")):
        msg = f"feed URL must be http(s): {url!r}"
        raise InputError(msg)
    if session.scalar(select(FeedRow).where(FeedRow.name == name)) is not None:
        msg = f"feed {name!r} already exists"
        raise ConflictError(msg)
    row = FeedRow(
        name=name, url=url, format=fmt, interval_minutes=max(1, interval_minutes), last_status=""
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "advisory.feed_add",
        f"feed:{name}",
        after={"url": url, "format": fmt, "interval_minutes": row.interval_minutes},
    )
    return _feed(row)


def list_feeds(session: Session) -> list[Feed]:
    return [_feed(r) for r in session.scalars(select(FeedRow).order_by(FeedRow.name))]


def run_feeds(
    session: Session,
    *,
    actor: Actor,
    now: datetime | None = None,
    force: bool = False,
    name: str | None = None,
    client: httpx.Client | None = None,
) -> list[tuple[str, str]]:
    """Fetch every feed that is due (or all with ``force``); return (feed, outcome) pairs.

    Each GET goes through ``client`` (or a new one), conditionally on the ETag and
    Last-Modified date of the feed's last import. A feed that fails keeps what it imported before and
    records why; the others go on.
    Each feed that brings something is one import in the audit trail.
    """
    moment = now or utcnow()
    query = select(FeedRow).order_by(FeedRow.name)
    if name is not None:
        query = query.where(FeedRow.name == name)
    rows = list(session.scalars(query))
    if name is not None and not rows:
        msg = f"no feed named {name!r}"
        raise NotFoundError(msg)
    outcomes = []
    with _client(client) as http:
        for row in rows:
            due = (
                row.last_run_at is None
                or as_utc(row.last_run_at) + timedelta(minutes=row.interval_minutes) <= moment
            )
            if not (due or force):
                outcomes.append((row.name, "not due"))
                continue
            try:
                with session.begin_nested():
                    download = fetch.get(
                        http,
                        row.url,
                        timeout=TIMEOUT,
                        etag=row.etag,
                        last_modified=row.last_modified,
                    )
                    if download.body is None:
                        outcome = "not modified"
                    else:
                        report = import_intel(
                            session,
                            parse_intel(download.body, row.url.rsplit("/", 1)[-1], row.format),
                            row.url,
                            actor=actor,
                        )
                        outcome = (
                            f"{report.records} records, {report.epss} EPSS scores, "
                            f"{report.exposures_created} new exposures"
                        )
                        row.etag, row.last_modified = download.etag, download.last_modified
            except BastionError as exc:
                outcome = f"failed: {exc}"
            row.last_run_at, row.last_status = moment, outcome[:500]
            outcomes.append((row.name, outcome))
    session.flush()
    return outcomes
