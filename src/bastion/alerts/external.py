"""Alerts from outside the boundary pipeline: Microsoft Defender (Graph ``alerts_v2``) and others.

Each external alert becomes one alert of kind ``external``: attributed to the
organisation whose network holds the device's IP address, else whose registered
host name the device's name ends with; its severity mapped onto Bastion's;
deduplicated on (source, source reference), so importing a file again adds
nothing; and grouped like any other alert (its observable is the first remote
address of its evidence, else the device).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit, orgs
from bastion.alerts import rollup
from bastion.alerts.grouping import assign_groups
from bastion.alerts.models import AlertRow
from bastion.alerts.store import OPEN_STATES, TriageState, Verdict
from bastion.audit import Actor
from bastion.core.errors import InputError
from bastion.core.timeutil import as_utc, utcnow

DEFENDER = "defender"
# Graph alertSeverity: unknown, informational, low, medium, high (unknownFutureValue).
_SEVERITY = {"informational": "informational", "low": "low", "medium": "medium", "high": "high"}
_RAW_LIMIT = 4096


@dataclass(frozen=True)
class ExternalAlert:
    """One alert as an outside source reports it, before attribution."""

    source: str
    ref: str
    title: str
    severity: str
    created: datetime
    device_ip: str | None = None
    hostname: str | None = None
    remote_ip: str | None = None
    raw: str = ""
    org: str | None = None  # the organisation, when the source knows it (else attributed)


@dataclass(frozen=True)
class ExternalReport:
    """What one import did."""

    read: int = 0
    created: int = 0
    duplicates: int = 0  # already stored under the same (source, reference)
    unattributed: int = 0  # no organisation's network or host name matched


def _time(value: object) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        msg = f"not an ISO 8601 time: {value!r}"
        raise InputError(msg) from None


def defender_alerts(document: Mapping[str, Any]) -> list[ExternalAlert]:
    """Read a Microsoft Graph security ``alerts_v2`` answer (``{"value": [alert, …]}``)."""
    items = document.get("value")
    if not isinstance(items, list):
        msg = 'a Graph alerts_v2 document holds its alerts in "value": [...]'
        raise InputError(msg)
    found = []
    for item in items:
        if not isinstance(item, dict) or not item.get("id") or not item.get("title"):
            msg = "every Defender alert needs an id and a title"
            raise InputError(msg)
        device_ip = hostname = remote = None
        for evidence in item.get("evidence") or []:
            kind = str(evidence.get("@odata.type", ""))
            if kind.endswith("deviceEvidence"):
                hostname = hostname or evidence.get("deviceDnsName")
                addresses = evidence.get("ipInterfaces") or []
                device_ip = device_ip or next((a for a in addresses if is_ip(a)), None)
            elif kind.endswith("ipEvidence") and is_ip(evidence.get("ipAddress")):
                remote = remote or evidence.get("ipAddress")
        found.append(
            ExternalAlert(
                source=DEFENDER,
                ref=str(item["id"])[:200],
                title=str(item["title"])[:500],
                severity=_SEVERITY.get(str(item.get("severity", "")).lower(), "medium"),
                created=_time(item.get("createdDateTime") or utcnow().isoformat()),
                device_ip=device_ip,
                hostname=hostname,
                remote_ip=remote if remote != device_ip else None,
                raw=json.dumps(item, sort_keys=True)[:_RAW_LIMIT],
            )
        )
    return found


def is_ip(value: object) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


class _Attribution:
    """Which organisation a device belongs to: by network, else by host-name suffix."""

    def __init__(self, session: Session) -> None:
        self.networks = [(ipaddress.ip_network(c), code) for c, code in orgs.all_networks(session)]
        organisations, _ = orgs.list_organisations(session)
        self.names = sorted(
            ((h.hostname.lower().rstrip("."), o.code) for o in organisations for h in o.hosts),
            key=lambda pair: -len(pair[0]),  # the longest (most specific) name first
        )

    def __call__(self, ip: str | None, hostname: str | None) -> str | None:
        if ip:
            address = ipaddress.ip_address(ip)
            best = [(n, c) for n, c in self.networks if address in n]
            if best:
                return max(best, key=lambda pair: pair[0].prefixlen)[1]
        name = (hostname or "").lower().rstrip(".")
        return next(
            (c for suffix, c in self.names if name == suffix or name.endswith(f".{suffix}")), None
        )


def raise_external(
    session: Session,
    alerts: Iterable[ExternalAlert],
    *,
    group_window: timedelta = timedelta(hours=1),
) -> ExternalReport:
    """Store new external alerts (flush, no commit): attributed, deduplicated, grouped."""
    items = list(alerts)
    if not items:
        return ExternalReport()
    attribute = _Attribution(session)
    refs = {(a.source, a.ref) for a in items}
    stored = {
        (str(source), str(ref))
        for source, ref in session.execute(
            select(AlertRow.source, AlertRow.source_ref).where(
                AlertRow.source.in_(sorted({s for s, _ in refs})),
                AlertRow.source_ref.in_(sorted({r for _, r in refs})),
            )
        )
    }
    fresh: list[AlertRow] = []
    unattributed = 0
    now = utcnow()
    for item in items:
        if (item.source, item.ref) in stored:
            continue
        stored.add((item.source, item.ref))
        org = item.org or attribute(item.device_ip, item.hostname)
        unattributed += org is None
        host = (item.device_ip or item.hostname or "")[:64] or None
        fresh.append(
            AlertRow(
                org_code=org,
                host=host,
                kind="external",
                key=f"{item.source}:{item.ref}"[:200],
                title=item.title,
                severity=item.severity,
                verdict=Verdict.LIVE.value,  # an endpoint saw it happen: nothing blocked it upstream
                state=TriageState.NEW.value,
                observable=(item.remote_ip or host or item.title)[:200],
                retrospective=False,
                count=1,
                first_seen=item.created,
                last_seen=item.created,
                evidence=[
                    {
                        "timestamp": item.created.isoformat(),
                        "dataset": item.source,
                        "path": None,
                        "offset": None,
                        "raw": item.raw,
                    }
                ],
                created_at=now,
                updated_at=now,
                source=item.source,
                source_ref=item.ref,
            )
        )
    session.add_all(fresh)
    if fresh:  # the response roll-up of their day of creation (today, unless told otherwise)
        rollup.touch(session, now)
    rollup.touch_days(session, (as_utc(r.last_seen).date() for r in fresh), rollup.SEEN_DAYS)
    session.flush()
    assign_groups(session, fresh, group_window, OPEN_STATES)
    return ExternalReport(
        read=len(items),
        created=len(fresh),
        duplicates=len(items) - len(fresh),
        unattributed=unattributed,
    )


def ingest(
    session: Session,
    actor: Actor,
    source: str,
    alerts: Iterable[ExternalAlert],
    *,
    group_window: timedelta = timedelta(hours=1),
) -> ExternalReport:
    """Raise the alerts a source pushed (webhook), and record the delivery in the audit trail."""
    report = raise_external(session, alerts, group_window=group_window)
    audit.record(
        session,
        actor,
        "alert.ingest",
        f"source:{source}",
        after={"read": report.read, "created": report.created, "duplicates": report.duplicates},
    )
    return report
