"""Lifecycle: expiry, confidence that decays with age, and the allow-list that always wins.

Every change to a listing is written to the change log with its reason
(``record_changes``), whether a feed pull, an analyst or the allow-list made it.

Decay: an indicator's *effective* confidence falls by half every ``half_life`` days
since the source last listed it (``last_seen``, else when it was stored). It is
computed when the index or a block list is compiled, never stored, so a source
re-listing an indicator restores it at once.

The allow-list holds networks (an address is a /32 or /128) and domains. An
allow-listed entry removes from the match index and from every block list any
indicator that overlaps it: an address or network inside an allowed network, a
network containing an allowed one, a domain equal to, under or above an allowed
domain, and a URL whose host is such a domain or an allowed address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.errors import InputError, Location, NotFoundError
from bastion.core.net import CidrTable
from bastion.core.records import must_exist
from bastion.core.timeutil import as_utc
from bastion.intel.indicator import IndicatorType, normalise, normalise_domain
from bastion.intel.models import AllowRow, IndicatorChangeRow, IndicatorRow
from bastion.intel.tables import domain_suffixes

DEFAULT_HALF_LIFE_DAYS = 90.0
_URL_HOST = r"^[a-z][a-z0-9+.-]*://(?:[^/@]*@)?(\[[^\]]*\]|[^/:?#]*)"


class Change:
    """What happened to a listing (values of the change log's ``change`` column)."""

    CREATED = "created"
    UPDATED = "updated"
    EXPIRED = "expired"
    REACTIVATED = "reactivated"


def record_changes(
    session: Session, changes: Iterable[dict[str, Any]], *, pull_id: int | None = None
) -> int:
    """Write change-log rows (type, value, source, change, reason) in one statement; return how many."""
    rows = [{**c, "pull_id": pull_id} for c in changes]
    if rows:
        session.execute(insert(IndicatorChangeRow), rows)
    return len(rows)


@dataclass(frozen=True)
class ChangeEntry:
    """One entry of an indicator's change log."""

    at: datetime
    source: str | None
    change: str
    reason: str
    pull_id: int | None


def indicator_changes(session: Session, kind: IndicatorType, value: str) -> list[ChangeEntry]:
    """Return the change log of one indicator, oldest first."""
    rows = session.scalars(
        select(IndicatorChangeRow)
        .where(IndicatorChangeRow.type == kind.value, IndicatorChangeRow.value == value)
        .order_by(IndicatorChangeRow.at, IndicatorChangeRow.id)
    )
    return [ChangeEntry(r.at, r.source, r.change, r.reason, r.pull_id) for r in rows]


def expire_indicator(
    session: Session,
    indicator_id: str,
    *,
    actor: Actor,
    reason: str,
    now: datetime,
    source: str | None = None,
) -> int:
    """Expire every source's listing of ``type:value`` (or one source's) now; return how many.

    Audited as ``intel.indicator_expire`` of ``indicator:type:value``.
    """
    kind_text, _, raw = indicator_id.partition(":")
    if not raw:
        msg = f"indicator id {indicator_id!r} is not type:value, like domain:evil.example"
        raise InputError(msg)
    if not reason.strip():
        msg = "say why the indicator is expired (--reason)"
        raise InputError(msg, Location(field="reason"))
    kind, value = normalise(IndicatorType.parse(kind_text), raw)
    moment = as_utc(now)
    query = select(IndicatorRow).where(IndicatorRow.type == kind.value, IndicatorRow.value == value)
    if source is not None:
        query = query.where(IndicatorRow.source == source)
    rows = [r for r in session.scalars(query) if r.valid_until is None or r.valid_until > moment]
    if not rows:
        msg = f"no active listing of {kind.value}:{value}" + (f" from {source}" if source else "")
        raise NotFoundError(msg)
    for row in rows:
        row.valid_until = moment
        row.updated_at = moment
    record_changes(
        session,
        (
            {
                "type": r.type,
                "value": r.value,
                "source": r.source,
                "change": Change.EXPIRED,
                "reason": reason.strip(),
                "at": moment,
            }
            for r in rows
        ),
    )
    session.flush()
    audit.record(
        session,
        actor,
        "intel.indicator_expire",
        f"indicator:{kind.value}:{value}",
        after={"reason": reason.strip(), "source": source, "expired": len(rows)},
    )
    return len(rows)


# The allow-list ------------------------------------------------------------------------


@dataclass(frozen=True)
class AllowEntry:
    """A network or domain that is never blocked or alerted on."""

    type: str  # cidr or domain
    value: str
    reason: str
    created_at: datetime


def _allow_value(value: str) -> tuple[str, str]:
    text = value.strip()
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        pass
    else:
        if network.prefixlen == 0:
            msg = (
                "allow-listing /0 would switch off every address indicator; give a narrower network"
            )
            raise InputError(msg, Location(field="value"))
        return "cidr", str(network)
    return "domain", normalise_domain(text)


def _allow(session: Session, entries: Iterable[tuple[str, str]], *, now: datetime) -> list[str]:
    """Allow-list (value, reason) pairs; return the values that were new."""
    have = {(r.type, r.value) for r in session.scalars(select(AllowRow))}
    new = {}
    for value, reason in entries:
        if not reason.strip():
            msg = "say why these are allow-listed (--reason)"
            raise InputError(msg)
        key = _allow_value(value)
        if key not in have and key not in new:
            new[key] = reason.strip()
    if new:
        session.execute(
            insert(AllowRow),
            [
                {"type": t, "value": v, "reason": why, "created_at": as_utc(now)}
                for (t, v), why in new.items()
            ],
        )
    session.flush()
    return [v for _, v in new]


def allow(
    session: Session, values: Iterable[str], *, actor: Actor, reason: str, now: datetime
) -> int:
    """Allow-list networks and domains (each with ``reason``); audited; return how many were new."""
    if not reason.strip():
        msg = "say why these are allow-listed (--reason)"
        raise InputError(msg)
    added = _allow(session, [(v, reason) for v in values], now=now)
    audit.record(
        session, actor, "intel.allow_add", "allowlist", after={"added": added, "reason": reason}
    )
    return len(added)


def disallow(session: Session, value: str, *, actor: Actor) -> None:
    """Remove one entry from the allow-list (audited); raise NotFoundError if it is not there."""
    kind, text = _allow_value(value)
    row = must_exist(
        session.scalar(select(AllowRow).where(AllowRow.type == kind, AllowRow.value == text)),
        f"{text} is not on the allow-list",
    )
    before = {"type": row.type, "value": row.value, "reason": row.reason}
    session.delete(row)
    session.flush()
    audit.record(session, actor, "intel.allow_remove", "allowlist", before=before)


def allowlist(session: Session) -> list[AllowEntry]:
    """Return the allow-list, networks then domains."""
    rows = session.scalars(select(AllowRow).order_by(AllowRow.type, AllowRow.value))
    return [AllowEntry(r.type, r.value, r.reason, r.created_at) for r in rows]


def allow_federation(
    session: Session, networks: Iterable[tuple[str, str]], *, actor: Actor, now: datetime
) -> int:
    """Allow-list the federation's own networks, (cidr, organisation) pairs; audited once.

    Return how many were new.
    """
    entries = [(cidr, f"federation network of {org}") for cidr, org in networks]
    added = _allow(session, entries, now=now)
    audit.record(session, actor, "intel.allow_federation", "allowlist", after={"added": len(added)})
    return len(added)


def allowed_mask(frame: pl.DataFrame, entries: list[AllowEntry]) -> pl.Series:
    """Return, per row of a (type, value) indicator frame, whether the allow-list removes it."""
    mask = pl.Series("allowed", [False] * frame.height, dtype=pl.Boolean)
    if not entries or not frame.height:
        return mask
    networks = pl.Series([e.value for e in entries if e.type == "cidr"], dtype=pl.String)
    domains = pl.Series([e.value for e in entries if e.type == "domain"], dtype=pl.String)
    kinds, values = frame["type"], frame["value"]
    ip_rows = kinds.is_in(["ipv4", "ipv6", "cidr"]).arg_true()
    url_rows = kinds.is_in(["url"]).arg_true()
    domain_rows = (kinds == "domain").arg_true()
    hosts = values.gather(url_rows).str.extract(_URL_HOST, 1).str.strip_chars("[]")
    if len(networks):
        allowed_nets = CidrTable.build(networks)
        starts = values.gather(ip_rows).str.split("/").list.first()
        inside = allowed_nets.covering(starts)["pos"].unique()
        mask = mask.scatter(ip_rows.gather(inside), True)
        listed = CidrTable.build(values.gather(ip_rows))
        around = listed.covering(networks.str.split("/").list.first())["item"].unique()
        mask = mask.scatter(ip_rows.gather(around), True)
        url_inside = allowed_nets.covering(hosts)["pos"].unique()
        mask = mask.scatter(url_rows.gather(url_inside), True)
    if len(domains):
        depths = sorted({d.count(".") + 1 for d in domains})
        for rows, probes in ((domain_rows, values.gather(domain_rows)), (url_rows, hosts)):
            suffixes = domain_suffixes(probes.fill_null(""), depths)
            under = suffixes.filter(pl.col("suffix").is_in(domains.implode()))["pos"].unique()
            mask = mask.scatter(rows.gather(under), True)
        # A listed parent of an allowed domain would block the allowed one too.
        listed_depths = sorted(
            set((values.gather(domain_rows).str.count_matches(".", literal=True) + 1).to_list())
        )
        above = domain_suffixes(domains, listed_depths)["suffix"].unique()
        parent = values.gather(domain_rows).is_in(above.implode()).arg_true()
        mask = mask.scatter(domain_rows.gather(parent), True)
    return mask


def decayed_confidence(
    confidence: pl.Expr,
    seen: pl.Expr,
    now: datetime,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> pl.Expr:
    """Return confidence halved every ``half_life_days`` since ``seen`` (a UTC datetime column)."""
    if half_life_days <= 0:
        return confidence
    age_days = (pl.lit(as_utc(now)) - seen).dt.total_seconds().clip(lower_bound=0) / 86400.0
    factor = (pl.lit(0.5) ** (age_days / half_life_days)).fill_null(1.0)
    return (confidence * factor).round(0).cast(pl.Int32)


def deactivate_stale(
    session: Session,
    *,
    source: str,
    keep: set[tuple[str, str]],
    reason: str,
    now: datetime,
    pull_id: int | None,
) -> int:
    """Expire the active listings of ``source`` not in ``keep`` (a snapshot feed dropped them)."""
    moment = as_utc(now)
    active = session.execute(
        select(IndicatorRow.id, IndicatorRow.type, IndicatorRow.value).where(
            IndicatorRow.source == source,
            (IndicatorRow.valid_until.is_(None)) | (IndicatorRow.valid_until > moment),
        )
    ).all()
    gone = [(i, t, v) for i, t, v in active if (t, v) not in keep]
    for start in range(0, len(gone), 500):
        ids = [i for i, _, _ in gone[start : start + 500]]
        session.execute(
            update(IndicatorRow)
            .where(IndicatorRow.id.in_(ids))
            .values(valid_until=moment, updated_at=moment)
        )
    record_changes(
        session,
        (
            {
                "type": t,
                "value": v,
                "source": source,
                "change": Change.EXPIRED,
                "reason": reason,
                "at": moment,
            }
            for _, t, v in gone
        ),
        pull_id=pull_id,
    )
    return len(gone)
