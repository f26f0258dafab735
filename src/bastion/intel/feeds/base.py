"""What a feed type is: how to fetch a feed, and how to read what it sends.

Each type is declared in its own module and listed by name in ``registry.FEED_TYPES``;
a feed's configuration refers to it by that name, and ``bastion intel import FILE``
asks a type's ``detect`` whether a file is one of its own.

Reading never stops at a bad object: ``Parsed.problems`` says what was skipped and
why, the good indicators are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import httpx

from bastion.core.errors import InputError, Location
from bastion.core.types import Severity, Tlp
from bastion.intel.indicator import Action, Indicator, parse_action, parse_severity, parse_tlp

MAX_PROBLEMS = 50  # reasons kept per pull; the count of skipped objects is always exact


@dataclass(frozen=True)
class FeedOptions:
    """How to read a feed, and what to assume where it says nothing."""

    source: str  # the source its indicators are listed under
    tlp: Tlp = Tlp.AMBER
    confidence: int = 50
    severity: Severity = Severity.MEDIUM
    action: Action = Action.ALERT
    threat: str = ""
    column: str = ""  # csv: the column holding the value, by header name or 1-based number
    threat_column: str = ""  # csv: a column naming the threat, if any
    collection: str = ""  # taxii: the collection id, when the URL is an API root
    username: str = ""  # taxii: basic authentication
    password: str = ""
    timeout: float = 30.0

    @classmethod
    def from_mapping(cls, source: str, options: Mapping[str, Any]) -> FeedOptions:
        """Build options from a feed's stored or given settings; raise InputError on a bad one."""
        known = {f.name for f in fields(cls)} - {"source"}
        unknown = sorted(set(options) - known)
        if unknown:
            msg = f"unknown feed option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            raise InputError(msg, Location(field=unknown[0]))
        given = dict(options)
        try:
            built = cls(
                source=source,
                tlp=parse_tlp(str(given.pop("tlp", "AMBER"))),
                confidence=int(given.pop("confidence", 50)),
                severity=parse_severity(str(given.pop("severity", "medium"))),
                action=parse_action(str(given.pop("action", "alert"))),
                timeout=float(given.pop("timeout", 30.0)),
                **{k: str(v) for k, v in given.items()},
            )
        except ValueError as exc:
            msg = f"invalid feed option: {exc}"
            raise InputError(msg) from None
        if not 0 <= built.confidence <= 100:
            msg = "confidence must be 0-100"
            raise InputError(msg, Location(field="confidence"))
        if built.timeout <= 0:
            msg = "timeout must be more than 0 seconds"
            raise InputError(msg, Location(field="timeout"))
        return built

    def stored(self) -> dict[str, Any]:
        """Return the options that differ from the defaults, as JSON-ready values."""
        default = FeedOptions(source=self.source)
        return {
            f.name: str(getattr(self, f.name)) if f.name in _ENUMS else getattr(self, f.name)
            for f in fields(self)
            if f.name != "source" and getattr(self, f.name) != getattr(default, f.name)
        }


_ENUMS = {"tlp", "severity", "action"}


@dataclass
class Parsed:
    """What reading a feed's content gave: the indicators, and what was skipped and why."""

    indicators: list[Indicator] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: int = 0
    ignored: int = 0  # objects that are fine but carry no indicator (reports, identities …)

    def skip(self, where: str, why: str) -> None:
        """Count one bad object, and keep its reason while there is room."""
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{where}: {why}")

    def extend(self, other: Parsed) -> None:
        """Add what another read found."""
        self.indicators.extend(other.indicators)
        self.skipped += other.skipped
        self.ignored += other.ignored
        self.problems.extend(other.problems[: max(0, MAX_PROBLEMS - len(self.problems))])


@dataclass(frozen=True)
class FeedState:
    """What a feed remembers between pulls, for conditional requests."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class Fetched:
    """What one pull of a feed brought: parsed content, or word that nothing changed."""

    parsed: Parsed | None  # None: not modified since the last pull
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None


Reader = Callable[[bytes, FeedOptions, str], Parsed]
Fetcher = Callable[[httpx.Client, FeedState, FeedOptions], Fetched]


@dataclass(frozen=True)
class FeedType:
    """One kind of feed: how to read its content and how to fetch it."""

    name: str
    description: str
    read: Reader  # content bytes, options, where (file or URL) -> Parsed
    fetch: Fetcher
    snapshot: bool = True  # each pull lists all it holds: what a clean pull no longer lists expires
    detect: Callable[[bytes], bool] | None = None  # for `intel import FILE`


def make_indicator(options: FeedOptions, **given: Any) -> Indicator:
    """Build one indicator with the feed's defaults for whatever ``given`` leaves out."""
    defaults: dict[str, Any] = {
        "source": options.source,
        "tlp": options.tlp,
        "confidence": options.confidence,
        "severity": options.severity,
        "action": options.action,
        "threat": options.threat,
    }
    return Indicator(**{**defaults, **{k: v for k, v in given.items() if v is not None}})
