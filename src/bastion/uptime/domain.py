"""What a monitor is, what one probe found, and when a monitor is under maintenance.

A monitor is checked every ``interval_s`` (at least 10 s) from each vantage point;
a failed probe is retried ``retries`` times within the interval before it is
reported down. Type-specific settings live in ``options`` (validated here):

- http: ``accepted`` (codes, "200-299,301"), ``keyword``, ``json_path`` and
  ``json_value``, ``header`` and ``header_value``, ``follow_redirects``;
- tcp: ``send`` and ``expect``, ``starttls`` (smtp, imap, pop3: upgrade to TLS first, then
  send and expect over it);
- dns: ``record`` (A, AAAA, MX, TXT, CNAME, NS), ``expected``, ``nameserver`` (host:port);
- tls: ``min_days`` (fewer days left is down), ``starttls`` (as tcp), ``verify`` (the chain
  and the host name must verify, against ``ca_pem`` (PEM text of the certificate
  authorities to trust, carried in the monitor so every vantage point trusts the same)
  if given, else the system's trust store);
- icmp: nothing; one echo request to the target (a host name or address). The agent needs a
  raw socket (root, or CAP_NET_RAW) or a group inside ``net.ipv4.ping_group_range``; without
  either the probe fails saying so, never reports the host down or up on a guess;
- push: nothing; the service calls its heartbeat URL, and silence for an interval is down.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from bastion.core.choices import Choice
from bastion.core.errors import InputError

Clock = Callable[[], datetime]
MIN_INTERVAL_S = 10
DNS_RECORDS = ("A", "AAAA", "MX", "TXT", "CNAME", "NS")
STARTTLS = ("smtp", "imap", "pop3")
_NAME = re.compile(r"^[\w .:/@()+-]{1,120}$")
_WORD = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class MonitorKind(Choice, what="monitor type", field="kind"):
    HTTP = "http"
    TCP = "tcp"
    DNS = "dns"
    TLS = "tls"
    ICMP = "icmp"
    PUSH = "push"


class Repeat(Choice, what="repeat", field="repeat"):
    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"


_OPTIONS: dict[MonitorKind, frozenset[str]] = {
    MonitorKind.HTTP: frozenset(
        {"accepted", "keyword", "json_path", "json_value", "header", "header_value"}
        | {"follow_redirects", "method"}
    ),
    MonitorKind.TCP: frozenset({"send", "expect", "starttls"}),
    MonitorKind.DNS: frozenset({"record", "expected", "nameserver"}),
    MonitorKind.TLS: frozenset({"min_days", "starttls", "verify", "ca_pem"}),
    MonitorKind.ICMP: frozenset(),
    MonitorKind.PUSH: frozenset(),
}


@dataclass(frozen=True)
class Monitor:
    """One thing to check, whose it is and how often."""

    name: str
    kind: MonitorKind
    target: str
    org: str
    service: str
    interval_s: int = 60
    timeout_s: float = 10.0
    retries: int = 0
    quorum: int = 2
    tags: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    public: bool = False
    paused: bool = False
    id: int = 0
    push_token: str = ""

    @property
    def dependency(self) -> str:
        """The shared thing this monitor depends on: its ``dep:`` tag, else its target's host."""
        for tag in self.tags:
            if tag.startswith("dep:"):
                return tag[4:]
        return host_of(self.target)


def host_of(target: str) -> str:
    """Return the host part of a URL or ``host:port`` target."""
    if "://" in target:
        return urlsplit(target).hostname or target
    return target.rsplit(":", 1)[0] if target.count(":") == 1 else target


def parse_codes(text: str) -> tuple[tuple[int, int], ...]:
    """Parse accepted status codes such as ``200-299,301`` into inclusive ranges."""
    ranges = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            msg = f"accepted codes are numbers or ranges such as 200-299,301; not {part!r}"
            raise InputError(msg) from None
        if not 100 <= first <= last <= 599:
            msg = f"accepted codes lie within 100-599; not {part!r}"
            raise InputError(msg)
        ranges.append((first, last))
    return tuple(ranges) or ((200, 299),)


def accepts(ranges: tuple[tuple[int, int], ...], code: int) -> bool:
    return any(low <= code <= high for low, high in ranges)


def _check_target(kind: MonitorKind, target: str) -> str:
    target = target.strip()
    if kind is MonitorKind.HTTP:
        parts = urlsplit(target)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            msg = f"an http monitor's target is an http(s) URL; not {target!r}"
            raise InputError(msg)
    elif kind in {MonitorKind.TCP, MonitorKind.TLS}:
        host, _, port = target.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            msg = f"a {kind.value} monitor's target is host:port; not {target!r}"
            raise InputError(msg)
    elif kind is MonitorKind.DNS and not re.fullmatch(r"[A-Za-z0-9_.-]{1,253}", target):
        msg = f"a dns monitor's target is a domain name; not {target!r}"
        raise InputError(msg)
    elif kind is MonitorKind.ICMP and not re.fullmatch(r"[A-Za-z0-9_.:-]{1,253}", target):
        msg = f"an icmp monitor's target is a host name or address; not {target!r}"
        raise InputError(msg)
    return target


def _check_options(kind: MonitorKind, options: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - _OPTIONS[kind])
    if unknown:
        allowed = ", ".join(sorted(_OPTIONS[kind])) or "none"
        msg = f"a {kind.value} monitor has no option {unknown[0]!r}; its options: {allowed}"
        raise InputError(msg)
    found = dict(options)
    if "accepted" in found:
        parse_codes(str(found["accepted"]))
    if kind is MonitorKind.DNS:
        record = str(found.get("record", "A")).upper()
        if record not in DNS_RECORDS:
            msg = f"unknown DNS record {record!r}; choose one of {', '.join(DNS_RECORDS)}"
            raise InputError(msg)
        found["record"] = record
    if "min_days" in found and not 0 <= int(found["min_days"]) <= 3650:
        msg = "min_days is 0-3650 days"
        raise InputError(msg)
    if "starttls" in found:
        found["starttls"] = str(found["starttls"]).strip().lower()
        if found["starttls"] not in STARTTLS:
            msg = f"starttls is one of {', '.join(STARTTLS)}; not {found['starttls']!r}"
            raise InputError(msg)
    if "ca_pem" in found and (
        "-----BEGIN CERTIFICATE-----" not in str(found["ca_pem"])
        or len(str(found["ca_pem"])) > 65_536
    ):
        msg = "ca_pem is the PEM text of one or more certificates (BEGIN CERTIFICATE), up to 64 KiB"
        raise InputError(msg)
    if "verify" in found:
        found["verify"] = str(found["verify"]).strip().lower() in {"1", "true", "yes", "on"}
    return found


def monitor(
    name: str,
    kind: str | MonitorKind,
    target: str,
    *,
    org: str,
    service: str,
    interval_s: int = 60,
    timeout_s: float = 10.0,
    retries: int = 0,
    quorum: int = 2,
    tags: tuple[str, ...] = (),
    options: Mapping[str, Any] | None = None,
    public: bool = False,
) -> Monitor:
    """Return a checked monitor, or raise InputError saying which field is wrong and why."""
    kind = kind if isinstance(kind, MonitorKind) else MonitorKind.parse(kind)
    if not _NAME.match(name.strip()):
        msg = "a monitor's name is 1-120 letters, digits, spaces or . : / @ ( ) + -"
        raise InputError(msg)
    if not _NAME.match(service.strip()):
        msg = "a service's name is 1-120 letters, digits, spaces or . : / @ ( ) + -"
        raise InputError(msg)
    if not MIN_INTERVAL_S <= interval_s <= 86_400:
        msg = f"interval is {MIN_INTERVAL_S}-86400 seconds; not {interval_s}"
        raise InputError(msg)
    if not 0 < timeout_s < interval_s:
        msg = f"timeout is over 0 and under the interval ({interval_s} s); not {timeout_s}"
        raise InputError(msg)
    if not 0 <= retries <= 10 or not 1 <= quorum <= 16:
        msg = "retries are 0-10 and a quorum 1-16 vantage points"
        raise InputError(msg)
    bad = [t for t in tags if not _WORD.match(t.strip().lower()) and not t.startswith("dep:")]
    if bad:
        msg = f"a tag is a lower-case word (or dep:NAME); not {bad[0]!r}"
        raise InputError(msg)
    target = target.strip() if kind is MonitorKind.PUSH else _check_target(kind, target)
    return Monitor(
        name=name.strip(), kind=kind, target=target, org=org.strip().upper(),
        service=service.strip(), interval_s=interval_s, timeout_s=timeout_s, retries=retries,
        quorum=quorum, tags=tuple(sorted({t.strip().lower() for t in tags})),
        options=_check_options(kind, options or {}), public=public,
    )  # fmt: skip


@dataclass(frozen=True)
class Timings:
    """Where an HTTP probe's time went, in milliseconds (None when the step did not happen)."""

    dns: float | None = None
    connect: float | None = None
    tls: float | None = None
    first_byte: float | None = None


@dataclass(frozen=True)
class ProbeResult:
    """What one probe of one monitor from one vantage point found."""

    monitor_id: int
    agent: str
    at: datetime
    ok: bool
    latency_ms: float
    status: int | None = None
    error: str = ""
    timings: Timings = field(default_factory=Timings)
    days_left: float | None = None  # TLS: days until the certificate expires
    attempts: int = 1
    cert_sha256: str | None = None  # TLS: the certificate's SHA-256 fingerprint (hex)

    def row(self) -> dict[str, Any]:
        """Return the result as one flat row (what travels to the centre and is stored)."""
        return {
            "monitor": self.monitor_id, "agent": self.agent, "at": self.at, "ok": self.ok,
            "latency_ms": self.latency_ms, "status": self.status, "error": self.error[:300],
            "dns_ms": self.timings.dns, "connect_ms": self.timings.connect,
            "tls_ms": self.timings.tls, "first_byte_ms": self.timings.first_byte,
            "days_left": self.days_left, "cert_sha256": self.cert_sha256,
        }  # fmt: skip


@dataclass(frozen=True)
class Maintenance:
    """A window in which a monitor's (or a whole service's) probes spend no error budget."""

    starts_at: datetime
    duration: timedelta
    repeat: Repeat = Repeat.NONE
    title: str = ""
    monitor_id: int | None = None
    service: str | None = None
    org: str = ""
    id: int = 0

    def covers(self, moments: np.ndarray) -> np.ndarray:
        """Return, for each moment (epoch seconds, int64), whether this window covers it."""
        start = int(self.starts_at.timestamp())
        since = moments.astype(np.int64) - start
        length = int(self.duration.total_seconds())
        if self.repeat is Repeat.NONE:
            return (since >= 0) & (since < length)
        period = 86_400 if self.repeat is Repeat.DAILY else 7 * 86_400
        return (since >= 0) & (np.mod(since, period) < length)

    def applies_to(self, item: Monitor) -> bool:
        if self.monitor_id is not None:
            return self.monitor_id == item.id
        return self.service == item.service and self.org in {"", item.org}


def maintenance(
    starts_at: datetime,
    minutes: int,
    *,
    repeat: str = "none",
    title: str = "",
    monitor_id: int | None = None,
    service: str | None = None,
    org: str = "",
) -> Maintenance:
    """Return a checked maintenance window of one monitor or one service."""
    every = Repeat.parse(repeat)
    longest = {Repeat.NONE: 60 * 24 * 31, Repeat.DAILY: 60 * 24, Repeat.WEEKLY: 60 * 24 * 7}
    if not 1 <= minutes < longest[every] + (every is Repeat.NONE):
        msg = f"a {every.value} maintenance window lasts 1-{longest[every] - 1} minutes"
        raise InputError(msg)
    if (monitor_id is None) == (service is None):
        msg = "a maintenance window is for one monitor or one service"
        raise InputError(msg)
    return Maintenance(
        starts_at, timedelta(minutes=minutes), every, title.strip()[:200], monitor_id, service,
        org.strip().upper(),
    )  # fmt: skip
