"""Block lists for enforcement points: plain-text lists of IPs, domains and URLs, per policy.

A *policy* says what a list holds: which actions (block, alert), the least
(decayed) confidence, and the most restrictive TLP that may leave Bastion. A
*device* (a firewall) pulls the lists of its policy with its own token; only a
SHA-256 of the token is stored, so the database never holds one that works.

The lists are in the format PAN-OS External Dynamic Lists and FortiGate external
threat feeds read: one entry per line, nothing else. ``ip``: addresses and CIDRs
(both families); ``domain``: domain names; ``url``: URLs without their scheme
(``evil.example/path``), as PAN-OS URL lists want them. Expired and allow-listed
indicators never appear (``listing_frame`` leaves them out). Each list has an
ETag (a hash of its text), so a device that already has it gets a 304.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.errors import ConflictError, InputError, Location, NotFoundError, PermissionDenied
from bastion.core.records import must_exist
from bastion.core.timeutil import as_utc
from bastion.core.types import Tlp
from bastion.intel.indicator import TLP_ORDER, parse_action, parse_tlp
from bastion.intel.models import AllowRow, DeviceRow, IndicatorChangeRow, PolicyRow
from bastion.intel.service import listing_frame

LIST_KINDS: dict[str, tuple[str, ...]] = {
    "ip": ("ipv4", "ipv6", "cidr"),
    "domain": ("domain",),
    "url": ("url",),
}


class Unauthorised(PermissionDenied):
    """No valid device token was given."""

    http_status = 401


@dataclass(frozen=True)
class Policy:
    """What a device's block lists hold."""

    name: str
    kinds: tuple[str, ...]
    actions: tuple[str, ...]
    min_confidence: int
    max_tlp: Tlp


@dataclass(frozen=True)
class Device:
    """An enforcement point that pulls block lists."""

    name: str
    policy: str
    created_at: datetime
    revoked_at: datetime | None
    last_pull_at: datetime | None


@dataclass(frozen=True)
class BlockList:
    """One rendered list: its text, ETag and how many entries it has."""

    kind: str
    text: str
    etag: str
    entries: int


def _policy(row: PolicyRow) -> Policy:
    return Policy(
        row.name, tuple(row.kinds), tuple(row.actions), row.min_confidence, Tlp(row.max_tlp)
    )


def _device(row: DeviceRow, policy: str) -> Device:
    return Device(row.name, policy, row.created_at, row.revoked_at, row.last_pull_at)


def _name(name: str) -> str:
    text = name.strip()
    if not text or len(text) > 100 or any(c.isspace() for c in text):
        msg = f"name must be 1-100 characters without spaces, got {name!r}"
        raise InputError(msg, Location(field="name"))
    return text


def add_policy(
    session: Session,
    name: str,
    *,
    kinds: tuple[str, ...] = tuple(LIST_KINDS),
    actions: tuple[str, ...] = ("block",),
    min_confidence: int = 80,
    max_tlp: Tlp | str = Tlp.GREEN,
    actor: Actor,
    now: datetime,
) -> Policy:
    """Create a block-list policy (audited); raise ConflictError if the name is taken."""
    name = _name(name)
    bad = sorted(set(kinds) - set(LIST_KINDS))
    if bad or not kinds:
        msg = (
            f"list kinds must be some of {', '.join(LIST_KINDS)}, got {', '.join(kinds) or 'none'}"
        )
        raise InputError(msg, Location(field="kinds"))
    chosen = tuple(sorted({parse_action(a).value for a in actions}))
    if not chosen:
        msg = "a policy needs at least one action (block, alert)"
        raise InputError(msg, Location(field="actions"))
    if not 0 <= min_confidence <= 100:
        msg = f"min confidence must be 0-100, got {min_confidence}"
        raise InputError(msg, Location(field="min_confidence"))
    if session.scalar(select(PolicyRow).where(PolicyRow.name == name)) is not None:
        msg = f"a policy called {name!r} exists already"
        raise ConflictError(msg)
    row = PolicyRow(
        name=name,
        kinds=sorted(set(kinds)),
        actions=list(chosen),
        min_confidence=min_confidence,
        max_tlp=parse_tlp(str(max_tlp)).value,
        created_at=as_utc(now),
    )
    session.add(row)
    session.flush()
    policy = _policy(row)
    audit.record(
        session,
        actor,
        "intel.policy_add",
        f"policy:{policy.name}",
        after={
            "kinds": row.kinds,
            "actions": row.actions,
            "min_confidence": row.min_confidence,
            "max_tlp": row.max_tlp,
        },
    )
    return policy


def list_policies(session: Session) -> list[Policy]:
    """Return every policy, by name."""
    return [_policy(r) for r in session.scalars(select(PolicyRow).order_by(PolicyRow.name))]


def _policy_row(session: Session, name: str) -> PolicyRow:
    row = session.scalar(select(PolicyRow).where(PolicyRow.name == name.strip()))
    return must_exist(
        row, f"no policy called {name!r}; list them with `bastion intel policies list`"
    )


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of a device token (what is stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_device(
    session: Session, name: str, policy: str, *, actor: Actor, now: datetime
) -> tuple[Device, str]:
    """Register a device under a policy (audited); return it and its token (shown once)."""
    name = _name(name)
    policy_row = _policy_row(session, policy)
    if session.scalar(select(DeviceRow).where(DeviceRow.name == name)) is not None:
        msg = f"a device called {name!r} exists already"
        raise ConflictError(msg)
    token = "bst_" + secrets.token_urlsafe(32)
    row = DeviceRow(
        name=name, policy_id=policy_row.id, token_hash=hash_token(token), created_at=as_utc(now)
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "intel.device_add", f"device:{name}", after={"policy": policy_row.name}
    )
    return _device(row, policy_row.name), token


def list_devices(session: Session) -> list[Device]:
    """Return every device (revoked ones too), by name."""
    rows = session.execute(
        select(DeviceRow, PolicyRow.name).join(PolicyRow).order_by(DeviceRow.name)
    ).all()
    return [_device(row, policy) for row, policy in rows]


def revoke_device(session: Session, name: str, *, actor: Actor, now: datetime) -> Device:
    """Revoke a device's token at once (audited); raise NotFoundError."""
    found = session.execute(
        select(DeviceRow, PolicyRow.name).join(PolicyRow).where(DeviceRow.name == name.strip())
    ).first()
    row, policy = must_exist(
        found, f"no device called {name!r}; list them with `bastion intel devices list`"
    )
    before = {"revoked_at": row.revoked_at}
    row.revoked_at = row.revoked_at or as_utc(now)
    session.flush()
    audit.record(
        session,
        actor,
        "intel.device_revoke",
        f"device:{row.name}",
        before=before,
        after={"revoked_at": row.revoked_at},
    )
    return _device(row, policy)


def authenticate(session: Session, token: str, *, now: datetime) -> tuple[Device, Policy]:
    """Return the device a token belongs to and its policy; raise Unauthorised otherwise."""
    digest = hash_token(token.strip())
    found = session.execute(
        select(DeviceRow, PolicyRow).join(PolicyRow).where(DeviceRow.token_hash == digest)
    ).first()
    # compare_digest: the lookup is by hash already; this keeps the final check constant-time.
    if found is None or not hmac.compare_digest(found[0].token_hash, digest):
        msg = "invalid device token"
        raise Unauthorised(msg)
    row, policy = found
    if row.revoked_at is not None:
        msg = "this device's token is revoked"
        raise Unauthorised(msg)
    row.last_pull_at = as_utc(now)
    session.flush()
    return _device(row, policy.name), _policy(policy)


def render_blocklist(session: Session, policy: Policy, kind: str, *, now: datetime) -> BlockList:
    """Render the ``kind`` list (ip, domain, url) of ``policy`` at ``now``."""
    if kind not in LIST_KINDS:
        msg = f"no {kind!r} list; lists are {', '.join(LIST_KINDS)}"
        raise NotFoundError(msg)
    if kind not in policy.kinds:
        msg = f"policy {policy.name} publishes no {kind} list"
        raise NotFoundError(msg)
    frame = listing_frame(session, now)
    most = TLP_ORDER[policy.max_tlp.value]
    chosen = frame.filter(
        pl.col("type").is_in(list(LIST_KINDS[kind])),
        pl.col("action").is_in(list(policy.actions)),
        pl.col("confidence") >= policy.min_confidence,
        pl.col("tlp").replace_strict(TLP_ORDER, return_dtype=pl.Int8, default=99) <= most,
    )
    values = chosen["value"]
    if kind == "url":
        values = values.str.replace(r"^[a-z][a-z0-9+.-]*://", "")
    entries = values.unique().sort()
    text = "".join(f"{v}\n" for v in entries.to_list())
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    return BlockList(kind, text, etag, len(entries))


def store_mark(session: Session) -> tuple[object, ...]:
    """Return what changes whenever a listing or the allow-list changes.

    Every change to a listing writes a change-log row, so the newest change id marks
    the listings; the allow-list is marked by its size and newest id.
    """
    changed = session.scalar(select(func.max(IndicatorChangeRow.id)))
    allowed = session.execute(select(func.count(), func.max(AllowRow.id))).one()
    return (changed, *allowed)


class RenderCache:
    """Rendered lists reused while the store has not changed, for at most ``ttl``.

    Many devices pull the same policy's lists; rendering reads every active
    listing, so it is done once per change. ``ttl`` bounds how long a list may lag
    what time alone changes (an indicator reaching its valid-until, decay).
    """

    def __init__(self, ttl: timedelta = timedelta(seconds=60)) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[tuple[object, ...], tuple[datetime, tuple[object, ...], BlockList]] = {}

    def get(self, session: Session, policy: Policy, kind: str, *, now: datetime) -> BlockList:
        """Return the ``kind`` list of ``policy``, rendered again only when it may have changed."""
        key = (policy, kind)
        mark = store_mark(session)
        with self._lock:
            held = self._items.get(key)
        if held is not None and held[1] == mark and now - held[0] < self._ttl:
            return held[2]
        rendered = render_blocklist(session, policy, kind, now=now)
        with self._lock:
            self._items[key] = (now, mark, rendered)
        return rendered
