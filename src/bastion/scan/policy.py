"""Each organisation's scanning policy: opted-in ranges, high risk (daily), quiet hours, DKIM."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit, orgs
from bastion.audit import Actor
from bastion.core.errors import InputError
from bastion.core.types import org_code
from bastion.scan.models import ScanPolicyRow

_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_LABELS = r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}(?:\.[A-Za-z0-9_-]{1,63})*"
_SELECTOR = re.compile(rf"^{_LABELS}(?:@{_LABELS}\.?)?$")  # "selector" or "selector@domain"


@dataclass(frozen=True)
class ScanPolicy:
    """How one organisation is scanned."""

    org: str
    scan_ranges: bool = False  # its registered networks are scanned, not only its hosts
    high_risk: bool = False  # scanned daily rather than weekly
    quiet_hours: str | None = None  # "HH:MM-HH:MM" local time: nothing is scanned then
    dkim_selectors: tuple[str, ...] = ()  # its mail domains' DKIM selectors ("selector1", "s1")


def check_selectors(selectors: tuple[str, ...]) -> tuple[str, ...]:
    """Return the DKIM selectors lower-cased and deduplicated, or raise InputError."""
    for selector in selectors:
        if not _SELECTOR.fullmatch(selector):
            msg = f"invalid DKIM selector {selector!r}: expected SELECTOR or SELECTOR@DOMAIN"
            raise InputError(msg)
    return tuple(dict.fromkeys(s.lower() for s in selectors))


def _policy(row: ScanPolicyRow) -> ScanPolicy:
    return ScanPolicy(
        row.org_code, row.scan_ranges, row.high_risk, row.quiet_hours,
        tuple(row.dkim_selectors or ()),
    )  # fmt: skip


def parse_window(text: str) -> tuple[time, time]:
    """Read a quiet-hours window ``HH:MM-HH:MM`` (it may run past midnight), or raise InputError."""
    msg = f"invalid quiet hours {text!r}: expected HH:MM-HH:MM, like 08:00-18:30"
    found = _WINDOW.fullmatch(text.strip())
    if not found:
        raise InputError(msg)
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    try:
        return time(h1, m1), time(h2, m2)
    except ValueError:
        raise InputError(msg) from None


def in_window(window: str | None, moment: datetime, zone: str) -> bool:
    """Tell whether ``moment`` falls in the quiet-hours ``window`` of time zone ``zone``."""
    if not window:
        return False
    start, end = parse_window(window)
    local = moment.astimezone(ZoneInfo(zone)).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def get_policy(session: Session, org: str) -> ScanPolicy:
    """Return ``org``'s policy (the defaults when it has none)."""
    code = org_code(org)
    row = session.scalar(select(ScanPolicyRow).where(ScanPolicyRow.org_code == code))
    return ScanPolicy(code) if row is None else _policy(row)


def all_policies(session: Session) -> dict[str, ScanPolicy]:
    """Return every stored policy by organisation code."""
    return {r.org_code: _policy(r) for r in session.scalars(select(ScanPolicyRow))}


def set_policy(session: Session, policy: ScanPolicy, *, actor: Actor) -> ScanPolicy:
    """Store an organisation's scanning policy; audited."""
    code = org_code(policy.org)
    orgs.get_organisation(session, code)  # it must exist
    if policy.quiet_hours:
        parse_window(policy.quiet_hours)
    before = get_policy(session, code)
    row = session.scalar(select(ScanPolicyRow).where(ScanPolicyRow.org_code == code))
    if row is None:
        row = ScanPolicyRow(org_code=code)
        session.add(row)
    row.scan_ranges = policy.scan_ranges
    row.high_risk = policy.high_risk
    row.quiet_hours = policy.quiet_hours or None
    row.dkim_selectors = list(check_selectors(policy.dkim_selectors))
    session.flush()
    after = get_policy(session, code)
    audit.record(
        session,
        actor,
        "scan.policy.set",
        f"scan-policy:{code}",
        org=code,
        before=before.__dict__,
        after=after.__dict__,
    )
    return after
