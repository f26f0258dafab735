"""What a case is: its lifecycle, observables, tasks, templates and regulatory clocks.

A case follows DFIR-IRIS's incident lifecycle (open → triage → containment →
eradication → recovery → post-incident → closed; any state may move to any
other, closed may reopen). Values arriving from a door are checked here, so
the CLI, the API and the console refuse the same things with the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from bastion.core.errors import InputError
from bastion.core.types import Tlp, must_match

E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], value: str, what: str) -> E:
    """Return ``value`` as a member of ``kind`` (any case, ``-`` or ``_``), else raise InputError."""
    text = value.strip()
    for candidate in (text, text.lower(), text.upper(), text.lower().replace("-", "_")):
        try:
            return kind(candidate)
        except ValueError:
            continue
    msg = f"unknown {what} {value!r}; choose one of {', '.join(k.value for k in kind)}"
    raise InputError(msg)


class CaseStatus(StrEnum):
    """DFIR-IRIS's incident lifecycle."""

    OPEN = "open"
    TRIAGE = "triage"
    CONTAINMENT = "containment"
    ERADICATION = "eradication"
    RECOVERY = "recovery"
    POST_INCIDENT = "post_incident"
    CLOSED = "closed"


class CaseSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Pap(StrEnum):
    """Permissible Actions Protocol: what a recipient may do with the case's information."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    RED = "RED"


class PatientImpact(StrEnum):
    NONE = "none"
    POTENTIAL = "potential"
    ACTUAL = "actual"


class ObservableKind(StrEnum):
    IP = "ip"
    DOMAIN = "domain"
    URL = "url"
    HASH = "hash"
    JA3 = "ja3"
    USER = "user"
    HOST = "host"


class TaskStatus(StrEnum):
    TODO = "todo"
    DOING = "doing"
    DONE = "done"


class Clock(StrEnum):
    """The regulatory deadlines a case may run against."""

    BREACH = "breach"  # personal-data breach report to the regulator
    SECTOR = "sector"  # the sector's incident report


CLOCK_LABELS = {
    Clock.BREACH: "Personal-data breach report",
    Clock.SECTOR: "Sector incident report",
}
# TLP markings whose holders may share with the whole community: a campaign names those.
SHAREABLE_TLP = frozenset({Tlp.CLEAR, Tlp.GREEN})
_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")
_TAG = re.compile(r"^[\w.:+/-]{1,64}$")

# Case templates: data, not code. Each is a title and the tasks a case from it starts with.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "Log4Shell exposure": (
        "Identify every host running a vulnerable log4j-core",
        "Check the web logs for ${jndi: lookups and their callbacks",
        "Patch or mitigate (remove JndiLookup) on each exposed host",
        "Hunt for outbound LDAP/RMI connections from the exposed hosts",
        "Confirm no persistence or follow-on payload",
    ),
    "Phishing": (
        "Collect the message and its headers",
        "Block the sender, the links and the attachments' hashes",
        "Find every recipient and who clicked",
        "Reset the credentials of those who entered them",
        "Tell staff what to look out for",
    ),
    "Ransomware precursor": (
        "Isolate the affected hosts",
        "Identify the initial access and the command-and-control channel",
        "Check backups are intact and offline",
        "Invoke downtime procedures for affected clinical systems if needed",
        "Hunt for the same indicators across the federation",
        "Report to the regulator if personal data may be affected",
    ),
}


def technique(value: str) -> str:
    """Return a MITRE ATT&CK technique id (``T1190``, ``T1059.001``), else raise InputError."""
    expected = "expected T1234 or T1234.001"
    return must_match(_TECHNIQUE, value.strip().upper(), "ATT&CK technique", value, expected)


def tag(value: str) -> str:
    """Return a tag (letters, digits, ``._:+/-``, at most 64), else raise InputError."""
    expected = "letters, digits and ._:+/- only, at most 64"
    return must_match(_TAG, value.strip().lower(), "tag", value, expected)


def template_tasks(name: str | None) -> tuple[str, ...]:
    """Return the tasks of the template called ``name`` (none without one)."""
    if not name:
        return ()
    for known, tasks in TEMPLATES.items():
        if known.lower() == name.strip().lower():
            return tasks
    msg = f"unknown case template {name!r}; choose one of {', '.join(TEMPLATES)}"
    raise InputError(msg)


def observable_value(kind: ObservableKind, value: str) -> str:
    """Return an observable's value normalised (domains and hashes lower case), or raise."""
    text = value.strip()
    if not text or len(text) > 2000 or any(ord(c) < 32 for c in text):
        msg = f"invalid {kind.value} observable {value[:80]!r}: 1-2000 printable characters"
        raise InputError(msg)
    if kind in {ObservableKind.DOMAIN, ObservableKind.HASH, ObservableKind.JA3}:
        text = text.lower().rstrip(".")
    if kind is ObservableKind.HASH and not re.fullmatch(r"[0-9a-f]{32,128}", text):
        msg = f"invalid hash {value!r}: 32 to 128 hexadecimal digits"
        raise InputError(msg)
    return text


def indicator_id(kind: ObservableKind, value: str) -> str | None:
    """Return the intel indicator id (``domain:bad.example``) of an observable, if intel has one."""
    types = {
        ObservableKind.IP: "ipv6" if ":" in value else "ipv4",
        ObservableKind.DOMAIN: "domain",
        ObservableKind.URL: "url",
        ObservableKind.JA3: "ja3",
        ObservableKind.HASH: {32: "md5", 40: "sha1"}.get(len(value), "sha256"),
    }
    found = types.get(kind)
    return None if found is None else f"{found}:{value}"


def intel_link(kind: ObservableKind, value: str) -> str | None:
    """Return the console path of the observable's indicator page, where intel keeps one."""
    found = indicator_id(kind, value)
    return None if found is None else f"/intel/indicators/{found}"


@dataclass(frozen=True)
class ClockState:
    """One regulatory clock on a case: its deadline, time left and whether it is overdue."""

    clock: Clock
    label: str
    deadline: datetime
    reported_at: datetime | None
    seconds_left: int
    overdue: bool


def clock_state(
    clock: Clock, started: datetime, hours: float, reported_at: datetime | None, now: datetime
) -> ClockState:
    """Return where a clock stands at ``now``: reported ones stop, late ones are overdue."""
    deadline = started + timedelta(hours=hours)
    end = reported_at or now
    return ClockState(
        clock=clock,
        label=CLOCK_LABELS[clock],
        deadline=deadline,
        reported_at=reported_at,
        seconds_left=int((deadline - now).total_seconds()),
        overdue=end > deadline,
    )


@dataclass(frozen=True)
class Observable:
    id: int
    kind: ObservableKind
    value: str
    tlp: Tlp
    note: str
    intel: str | None  # the console path of its indicator page, when intel keeps that kind
    sightings: int  # alerts raised on it, within the caller's organisations


@dataclass(frozen=True)
class Task:
    id: int
    title: str
    status: TaskStatus
    assignee: str | None


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    at: datetime
    kind: str  # alert, note, status, evidence, observable, task, attachment, advisory, merge
    actor: str
    text: str
    data: dict[str, object] | None


@dataclass(frozen=True)
class Attachment:
    id: int
    name: str
    sha256: str
    size: int
    media_type: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class Case:
    """A case as its readers see it; the lists are filled for one case's page, empty in lists."""

    id: int
    title: str
    description: str
    severity: CaseSeverity
    tlp: Tlp
    pap: Pap
    status: CaseStatus
    owner: str | None
    organisations: tuple[str, ...]
    tags: tuple[str, ...]
    techniques: tuple[str, ...]
    patient_impact: PatientImpact
    clinical_systems: tuple[str, ...]
    downtime_since: datetime | None
    personal_data: bool
    aware_at: datetime
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    resolution: str
    merged_into: int | None
    clocks: tuple[ClockState, ...] = ()
    alerts: tuple[int, ...] = ()
    advisories: tuple[str, ...] = ()
    observables: tuple[Observable, ...] = ()
    tasks: tuple[Task, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @property
    def downtime(self) -> bool:
        return self.downtime_since is not None


@dataclass(frozen=True)
class CaseDraft:
    """What a new case says; every field is checked by ``bastion.cases.create_case``."""

    title: str
    organisations: tuple[str, ...]
    description: str = ""
    severity: str = "medium"
    tlp: str = "AMBER"
    pap: str = "AMBER"
    owner: str | None = None
    tags: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    template: str | None = None
    patient_impact: str = "none"
    clinical_systems: tuple[str, ...] = ()
    downtime_since: datetime | None = None
    personal_data: bool = False
    aware_at: datetime | None = None
    extra_tasks: tuple[str, ...] = field(default_factory=tuple)
