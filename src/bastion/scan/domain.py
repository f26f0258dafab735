"""What scanning finds, in one shape whatever the check: observations and findings.

A check reports *observations*: one problem seen on one address and port. The
service folds them into *findings* by their normal form — organisation, host,
port, check, detail — so one problem is one finding however it was reached:

* ``host`` is the registered host's name when the address belongs to one (a name
  and its address are one host), else the address;
* ``port`` is 0 for a web-level problem (``web=True``: a missing header, an exposed
  ``.git/``), so the same page behind 80 and 443 is one finding; a service-level
  problem (an open RDP port, a certificate) keeps its port.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bastion.core.types import Severity

WEB_PORT = 0


class Status(StrEnum):
    """Where a finding stands."""

    OPEN = "open"
    FIXED_UNCONFIRMED = "fixed-unconfirmed"  # gone from one scan, or the member says fixed
    CLOSED = "closed"  # a confirming rescan did not see it
    EXCEPTED = "excepted"  # an approved exception covers it


class ExceptionState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Evidence:
    """The exact probe sent and an excerpt of what came back."""

    probe: str
    response: str

    def as_dict(self) -> dict[str, str]:
        return {"probe": self.probe[:2000], "response": self.response[:4000]}


@dataclass(frozen=True)
class Observation:
    """One problem a check saw on one address and port."""

    check: str
    detail: str  # what exactly, within the check: "expired", "missing:strict-transport-security"
    title: str
    severity: Severity
    port: int
    evidence: Evidence
    remediation: str  # the template that explains the fix, see bastion.scan.remediation
    params: dict[str, Any] = field(default_factory=dict)
    web: bool = False  # a web-level problem: one finding across the host's web ports

    @property
    def normal_port(self) -> int:
        return WEB_PORT if self.web else self.port


@dataclass(frozen=True)
class Finding:
    """A finding as stored and shown."""

    id: int
    org: str
    host: str
    port: int
    check: str
    detail: str
    title: str
    severity: Severity
    status: Status
    remediation: str
    params: dict[str, Any]
    evidence: dict[str, Any]
    seen_at: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    status_changed_at: datetime


@dataclass(frozen=True)
class ScanException:
    """An exception to scanning: a host or one check on it, until a date, for a reason."""

    id: int
    org: str
    host: str
    check: str | None
    reason: str
    expires_on: date
    state: ExceptionState
    requested_by: str
    decided_by: str | None

    def covers(self, host: str, check: str, today: date) -> bool:
        """Tell whether this exception is in force for ``check`` on ``host`` on ``today``."""
        return (
            self.state is ExceptionState.APPROVED
            and today <= self.expires_on
            and self.host == host
            and self.check in (None, check)
        )
