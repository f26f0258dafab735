"""The allow-list: known-good domains, addresses and fingerprints no result alerts on.

An entry is national (``org`` None: every member) or one organisation's, has a
reason and an expiry date, and covers a result until that date ends:

* ``domain``: the destination name, the registered domain of a DNS result, or
  any name under it (``vendor.test`` covers ``update.vendor.test``);
* ``address``: the remote address, or a network in CIDR notation holding it;
* ``fingerprint``: a JA3 or JA4 value (``ja3:…``, or the bare value).

Tenancy: a member sees and edits its own organisation's entries only; national
entries are made and changed nationally. Every change is audited.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.behaviour.models import BehaviourAllowRow
from bastion.core.errors import InputError, NotFoundError, PermissionDenied
from bastion.core.records import from_row
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.core.types import org_code
from bastion.store.membership import one_of

KINDS = ("domain", "address", "fingerprint")


@dataclass(frozen=True)
class AllowEntry:
    """One allow-list entry."""

    id: int
    org: str | None
    kind: str
    value: str
    reason: str
    expires_on: date
    created_by: str
    created_at: datetime

    def covers(self, result: dict[str, Any]) -> bool:
        """Tell whether this entry covers a result (``dest``, ``remote``, ``org``)."""
        if self.org is not None and self.org != result.get("org"):
            return False
        dest = str(result.get("dest") or "").lower()
        if self.kind == "fingerprint":
            return dest == self.value or dest.partition(":")[2] == self.value
        if self.kind == "domain":
            return dest == self.value or dest.endswith("." + self.value)
        remote = result.get("remote") or dest
        try:
            return ipaddress.ip_address(remote) in ipaddress.ip_network(self.value, strict=False)
        except ValueError:
            return False


def to_entry(row: BehaviourAllowRow) -> AllowEntry:
    return from_row(AllowEntry, row, org=row.org_code)


def normal_value(kind: str, value: str) -> str:
    """Return ``value`` in its stored form; raise InputError naming what is wrong with it."""
    if kind not in KINDS:
        msg = f"allow-list kind {kind!r} is unknown; kinds are {', '.join(KINDS)}"
        raise InputError(msg)
    text = value.strip().lower().rstrip(".")
    if not text or len(text) > 253 or any(c.isspace() for c in text):
        msg = f"allow-list value {value!r} must be 1-253 characters without spaces"
        raise InputError(msg)
    if kind == "address":
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError:
            msg = f"allow-list address {value!r} is not an IP address or network"
            raise InputError(msg) from None
    return text


def _check_org(scope: Scope, org: str | None) -> str | None:
    if org is None:
        if not scope.national:
            msg = "only the national centre may add or change national allow-list entries"
            raise PermissionDenied(msg)
        return None
    code = org_code(org)
    if not scope.allows(code):
        msg = f"organisation {code} is not yours"
        raise PermissionDenied(msg)
    return code


def new_entry(
    session: Session,
    scope: Scope,
    *,
    org: str | None,
    kind: str,
    value: str,
    reason: str,
    expires_on: date,
    actor: Actor,
) -> BehaviourAllowRow:
    """Check and insert an entry; the caller records the change in the audit trail."""
    code = _check_org(scope, org)
    if not reason.strip():
        msg = "an allow-list entry needs a reason"
        raise InputError(msg)
    if expires_on < utcnow().date():
        msg = f"expiry {expires_on} is in the past"
        raise InputError(msg)
    row = BehaviourAllowRow(
        org_code=code,
        kind=kind,
        value=normal_value(kind, value),
        reason=reason.strip()[:2000],
        expires_on=expires_on,
        created_by=str(actor)[:120],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def entry_view(entry: BehaviourAllowRow | AllowEntry) -> dict[str, object]:
    """Return what the audit trail keeps of an entry."""
    return {"kind": entry.kind, "value": entry.value, "reason": entry.reason,
            "expires_on": entry.expires_on}  # fmt: skip


def add_allowed(
    session: Session,
    scope: Scope,
    *,
    org: str | None,
    kind: str,
    value: str,
    reason: str,
    expires_on: date,
    actor: Actor,
) -> AllowEntry:
    """Add an entry (``org`` None: national, for national callers only); audited."""
    row = new_entry(
        session, scope, org=org, kind=kind, value=value, reason=reason, expires_on=expires_on,
        actor=actor,
    )  # fmt: skip
    audit.record(
        session, actor, "behaviour.allow.add", f"behaviour-allow:{row.id}", org=row.org_code,
        after=entry_view(row),
    )  # fmt: skip
    return to_entry(row)


def _visible(scope: Scope) -> Select[BehaviourAllowRow]:
    query = select(BehaviourAllowRow)
    if scope.codes is not None:
        query = query.where(one_of(BehaviourAllowRow.org_code, scope.codes))
    return query


def list_allowed(
    session: Session, scope: Scope, *, active_on: date | None = None
) -> list[AllowEntry]:
    """Return the entries ``scope`` may see (national first), or those in force on ``active_on``."""
    query = _visible(scope)
    if active_on is not None:
        query = query.where(BehaviourAllowRow.expires_on >= active_on)
    rows = session.scalars(query.order_by(BehaviourAllowRow.org_code, BehaviourAllowRow.id))
    return sorted((to_entry(r) for r in rows), key=lambda e: (e.org is not None, e.id))


def remove_allowed(session: Session, scope: Scope, entry_id: int, *, actor: Actor) -> AllowEntry:
    """Remove an entry ``scope`` may edit; audited."""
    row = session.get(BehaviourAllowRow, entry_id)
    if row is None or (row.org_code is not None and not scope.allows(row.org_code)):
        msg = f"no allow-list entry {entry_id}"
        raise NotFoundError(msg)
    if row.org_code is None and not scope.national:
        msg = f"no allow-list entry {entry_id}"
        raise NotFoundError(msg)
    entry = to_entry(row)
    session.delete(row)
    audit.record(
        session,
        actor,
        "behaviour.allow.remove",
        f"behaviour-allow:{entry_id}",
        org=entry.org,
        before=entry_view(entry),
    )
    session.flush()
    return entry


def covering(entries: list[AllowEntry], result: dict[str, Any]) -> AllowEntry | None:
    """Return the first entry covering ``result``, if any."""
    return next((e for e in entries if e.covers(result)), None)
