"""`/api/v1/intel`: threat indicators, their sources, sightings and alerts; feeds and their pulls.

Tenancy: indicators and feeds are national data. National roles (administrators,
analysts, auditors) read them; national analysts and administrators change them
(add, expire, import, pull a feed). Organisation users get 403 on every intel
route: an indicator's sightings name the organisations it hit, which one member
must never learn of another, so members see their own hits as alerts instead.
Every change is written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path as FilePath
from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bastion import intel
from bastion.alerts import Alert, list_alerts
from bastion.auth import Principal
from bastion.core.errors import InputError, Location
from bastion.core.timeutil import utcnow
from bastion.core.types import Severity, Tlp
from bastion.intel import feeds
from bastion.intel.indicator import Action, IndicatorType
from bastion.intel.lifecycle import ChangeEntry
from bastion.intel.service import SORTS
from bastion.web.api.alerts import AlertSummary
from bastion.web.api.paging import Limit, Offset
from bastion.web.auth import require_national
from bastion.web.deps import PRINTABLE, SessionDep

RECENT_ALERTS = 10
WEEK = timedelta(days=7)
MAX_UPLOAD = 16 * 1024 * 1024  # an indicator file larger than this is refused, not read
FORMATS = ("auto", *feeds.FILE_FORMATS)

router = APIRouter(prefix="/intel", tags=["intel"])

IntelReader = Annotated[Principal, Depends(require_national("intel:read"))]
IntelWriter = Annotated[Principal, Depends(require_national("intel:write"))]
Text = Annotated[str, Field(max_length=200, pattern=PRINTABLE)]
FeedName = Annotated[
    str, Path(min_length=1, max_length=100, pattern=PRINTABLE, description="the feed's name")
]
IndicatorId = Annotated[
    str,
    Path(
        min_length=3,
        max_length=2100,
        pattern=PRINTABLE,
        description="type:value, e.g. `domain:evil.example`",
    ),
]


def active_filter(value: str) -> bool | None:
    """Parse the ``active`` filter: true, false, or empty for either."""
    text = value.strip().lower()
    if not text:
        return None
    if text in {"true", "yes", "1"}:
        return True
    if text in {"false", "no", "0"}:
        return False
    msg = f"active must be true or false (or left out), got {value!r}"
    raise InputError(msg, Location(field="active"))


# Views shared by the API and the console ------------------------------------------------


@dataclass(frozen=True)
class IndicatorView:
    """What is known of one indicator: every source's listing, where it was seen, its alerts."""

    id: str
    listings: list[intel.Indicator]
    sightings: list[intel.Sighting]  # every organisation it was ever seen at
    hit_this_week: int  # organisations it was seen at in the last seven days
    alerts: list[Alert]
    alert_total: int
    changes: list[ChangeEntry]

    @property
    def active(self) -> bool:
        now = utcnow()
        return any(i.active(now) for i in self.listings)


def indicator_view(
    session: Session, indicator_id: str, *, orgs: Sequence[str] | None = None
) -> IndicatorView:
    """Return one indicator's view; alerts only within ``orgs`` (None: every organisation)."""
    listings = intel.get_indicator(session, indicator_id)
    first = listings[0]
    sightings = intel.list_sightings(session, first.id)
    if orgs is not None:
        allowed = {o.upper() for o in orgs}
        sightings = [s for s in sightings if s.org in allowed]
    week_ago = utcnow() - WEEK
    hit = sum(1 for s in sightings if s.last_seen >= week_ago)
    alerts, total = list_alerts(session, key=first.id, orgs=orgs, limit=RECENT_ALERTS)
    changes = intel.indicator_changes(session, first.type, first.value)
    return IndicatorView(first.id, listings, sightings, hit, alerts, total, changes)


def feed_summaries(session: Session) -> list[tuple[feeds.Feed, feeds.Pull | None]]:
    """Return every feed with its latest pull (None before the first); feeds are a few dozen."""
    summaries = []
    for feed in feeds.list_feeds(session):
        last = feeds.feed_history(session, feed.name, limit=1)
        summaries.append((feed, last[0] if last else None))
    return summaries


def read_upload(
    content: bytes, filename: str, fmt: str, source: str | None
) -> tuple[str, feeds.Parsed]:
    """Read an uploaded indicator file as `bastion intel import` reads one; detect the format."""
    if fmt not in FORMATS:
        msg = f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}"
        raise InputError(msg, Location(field="format"))
    name = PurePath(filename or "upload").name or "upload"
    where = PurePath(name)
    if not content.strip():
        msg = "the file is empty"
        raise InputError(msg, Location(name))
    if fmt == "auto":
        fmt = feeds.detect_file_format(FilePath(name), content[:65536])
    options = feeds.FeedOptions.from_mapping(source or where.stem or "upload", {})
    return fmt, feeds.FILE_FORMATS.get(fmt)(content, options, name)


# Models ---------------------------------------------------------------------------------


class _FromDomain(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ListingOut(_FromDomain):
    """One source's listing of an indicator."""

    id: str = Field(description="type:value, the same for every source")
    type: IndicatorType
    value: str
    source: str
    severity: Severity
    confidence: int
    action: Action
    threat: str
    tags: list[str]
    tlp: Tlp
    first_seen: datetime | None
    last_seen: datetime | None
    valid_until: datetime | None = Field(description="expired after this; null: no end")


class IndicatorPage(BaseModel):
    """One page of listings and how many match in all."""

    items: list[ListingOut]
    total: int
    limit: int
    offset: int


class SightingOut(_FromDomain):
    org: str
    first_seen: datetime
    last_seen: datetime
    count: int


class ChangeOut(_FromDomain):
    at: datetime
    source: str | None
    change: str
    reason: str
    pull_id: int | None


class IndicatorOut(BaseModel):
    """One indicator: its listings, where it was seen, its recent alerts and its change log."""

    id: str
    active: bool = Field(description="some source's listing is still valid")
    listings: list[ListingOut]
    organisations_hit_this_week: int
    sightings: list[SightingOut]
    recent_alerts: list[AlertSummary]
    alert_total: int
    changes: list[ChangeOut]

    @classmethod
    def of(cls, view: IndicatorView) -> IndicatorOut:
        return cls(
            id=view.id,
            active=view.active,
            listings=[ListingOut.model_validate(i) for i in view.listings],
            organisations_hit_this_week=view.hit_this_week,
            sightings=[SightingOut.model_validate(s) for s in view.sightings],
            recent_alerts=[AlertSummary.model_validate(a) for a in view.alerts],
            alert_total=view.alert_total,
            changes=[ChangeOut.model_validate(c) for c in view.changes],
        )


class IndicatorIn(BaseModel):
    """An indicator to list by hand (its source names who vouches for it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: IndicatorType
    value: Annotated[str, Field(min_length=1, max_length=2048, pattern=PRINTABLE)]
    source: Annotated[str, Field(min_length=1, max_length=100, pattern=PRINTABLE)] = "manual"
    severity: Severity = Severity.MEDIUM
    confidence: Annotated[int, Field(ge=0, le=100)] = 50
    action: Action = Action.ALERT
    threat: Text = ""
    tags: Annotated[list[Text], Field(max_length=50)] = []
    tlp: Tlp = Tlp.AMBER
    valid_until: datetime | None = None

    def to_domain(self) -> intel.Indicator:
        return intel.Indicator(**self.model_dump(exclude={"tags"}), tags=tuple(self.tags))


class ExpireIn(BaseModel):
    """Why an indicator no longer applies, and (optionally) whose listing to end."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Annotated[str, Field(min_length=3, max_length=2100, pattern=PRINTABLE)]
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=PRINTABLE)]
    source: Annotated[str, Field(min_length=1, max_length=100, pattern=PRINTABLE)] | None = None


class ExpireOut(BaseModel):
    id: str
    expired: int = Field(description="how many listings were expired")


class ImportOut(BaseModel):
    """What an import read and stored."""

    file: str
    format: str
    read: int
    created: int
    changed: int
    unchanged: int
    skipped: int = Field(description="bad objects left out (feed formats; Bastion files refuse)")
    problems: list[str]


class FeedOut(BaseModel):
    name: str
    kind: str
    url: str
    interval_seconds: int
    enabled: bool
    last_pull_at: datetime | None
    last_pull: feeds.Pull | None


# Routes ---------------------------------------------------------------------------------


@router.get("/indicators", summary="Search indicators")
def search_indicators(
    session: SessionDep,
    _: IntelReader,
    q: Annotated[
        str, Query(max_length=200, pattern=PRINTABLE, description="part of value/threat/source")
    ] = "",
    type: Annotated[IndicatorType | None, Query(description="only this type")] = None,
    source: Annotated[
        str, Query(max_length=100, pattern=PRINTABLE, description="only this source")
    ] = "",
    active: Annotated[str, Query(max_length=5, description="true: valid now; false: expired")] = "",
    sort: Annotated[str, Query(max_length=20, description=f"one of {', '.join(SORTS)}")] = "value",
    limit: Limit = 50,
    offset: Offset = 0,
) -> IndicatorPage:
    """Return one page of listings (one per indicator and source) with the total that match."""
    found, total = intel.list_indicators(
        session,
        type=type,
        search=q or None,
        source=source or None,
        active=active_filter(active),
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return IndicatorPage(
        items=[ListingOut.model_validate(i) for i in found], total=total, limit=limit, offset=offset
    )


@router.post("/indicators", summary="Add an indicator", status_code=status.HTTP_201_CREATED)
def add_indicator(body: IndicatorIn, session: SessionDep, principal: IntelWriter) -> IndicatorOut:
    """List an indicator by hand (national analysts); the same source's listing is replaced."""
    indicator = body.to_domain()
    intel.add_indicator(session, indicator, actor=principal.as_actor())
    return IndicatorOut.of(indicator_view(session, indicator.id))


@router.post("/indicators/expire", summary="Expire an indicator")
def expire_indicator(body: ExpireIn, session: SessionDep, principal: IntelWriter) -> ExpireOut:
    """End every source's listing of the indicator now (or one source's), saying why."""
    count = intel.expire_indicator(
        session,
        body.id,
        actor=principal.as_actor(),
        reason=body.reason,
        now=utcnow(),
        source=body.source,
    )
    listings = intel.get_indicator(session, body.id)
    return ExpireOut(id=listings[0].id, expired=count)


@router.get("/indicators/{indicator_id:path}", summary="Get an indicator")
def get_indicator(indicator_id: IndicatorId, session: SessionDep, _: IntelReader) -> IndicatorOut:
    """Return an indicator: its sources, the organisations it hit this week, its recent alerts."""
    return IndicatorOut.of(indicator_view(session, indicator_id))


@router.post("/import", summary="Import an indicator file", status_code=status.HTTP_201_CREATED)
async def import_indicators(
    session: SessionDep,
    principal: IntelWriter,
    file: Annotated[UploadFile, File(description="Bastion CSV/JSON, STIX, MISP event or a list")],
    format: Annotated[str, Form(max_length=20)] = "auto",
    source: Annotated[str, Form(max_length=100, pattern=PRINTABLE)] = "",
) -> ImportOut:
    """Import indicators from an uploaded file; the format is detected unless given."""
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        msg = f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MiB"
        raise InputError(msg, Location(field="file"))
    name = PurePath(file.filename or "upload").name or "upload"
    fmt, parsed = read_upload(
        content, name, format.strip().lower() or "auto", source.strip() or None
    )
    stats = intel.store_listings(
        session,
        parsed.indicators,
        actor=principal.as_actor(),
        reason=f"imported from {name}",
        target=f"file:{name}",
    )
    return ImportOut(
        file=name,
        format=fmt,
        read=len(parsed.indicators),
        created=stats.created,
        changed=stats.changed,
        unchanged=stats.unchanged,
        skipped=parsed.skipped,
        problems=list(parsed.problems),
    )


@router.get("/feeds", summary="List feeds")
def list_feeds(session: SessionDep, _: IntelReader) -> list[FeedOut]:
    """Return every feed with its latest pull."""
    return [FeedOut(**asdict(f), last_pull=p) for f, p in feed_summaries(session)]


@router.get("/feeds/{name}/pulls", summary="A feed's pull history")
def feed_pulls(
    name: FeedName,
    session: SessionDep,
    _: IntelReader,
    limit: Limit = 50,
) -> list[feeds.Pull]:
    """Return the feed's latest pulls, newest first; a pull's status is ok, not_modified,
    partial or failed."""
    return feeds.feed_history(session, name, limit=limit)


@router.post("/feeds/{name}/pull", summary="Pull a feed now")
def pull_feed(name: FeedName, session: SessionDep, principal: IntelWriter) -> feeds.Pull:
    """Pull the feed now and record the pull (a failed pull is recorded too, changing nothing)."""
    return feeds.pull_feed(session, name, actor=principal.as_actor(), now=utcnow())
