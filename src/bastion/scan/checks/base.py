"""What every check is made of, and what it is given: the sslyze-style trio and the probe.

A check is one ``Check``: ``run`` (the implementation: probes the target, returns
its result type), ``observe`` (turns the result into observations, given the
store look-ups it may need), ``covers`` (which ports the result speaks for) and
``serialise`` (the result as JSON for the CLI, the API and the target's summary: by
default its fields, nested records as dicts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from bastion.core.settings import SCAN_USER_AGENT
from bastion.scan.domain import Observation
from bastion.scan.politeness import LocalLimiter, Rates, RedisLimiter
from bastion.scan.targets import Target

R = TypeVar("R")

USER_AGENT = SCAN_USER_AGENT


@dataclass(frozen=True)
class ScanConfig:
    """What a scan needs from the settings."""

    ports: tuple[int, ...]
    rates: Rates = field(default_factory=Rates)
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    banner_wait: float = 1.0
    user_agent: str = USER_AGENT
    backoff_seconds: float = 2.0
    trust_ca_file: Path | None = None
    canary_dns: str | None = None  # host:port the canary listener answers on
    canary_domain: str = "canary.bastion.test"
    canary_wait: float = 2.0
    dns_server: str | None = None  # host:port for e-mail and DNS checks; None: the system's
    max_connections: int = 512
    dkim_selectors: dict[str, tuple[str, ...]] = field(default_factory=dict)  # by organisation


@dataclass(frozen=True)
class Service:
    """What answers on one open port."""

    port: int
    name: str  # http, tls, ssh, smtp, ftp, rdp, smb, redis, postgresql, mysql, … or unknown
    banner: str = ""
    product: str | None = None  # as the banner names it: "OpenSSH", "Apache httpd"
    version: str | None = None
    tls: bool = False  # spoken over TLS (https, smtps…)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Probe:
    """One target as every check sees it, and what earlier checks found on it."""

    target: Target
    config: ScanConfig
    limiter: LocalLimiter | RedisLimiter
    services: dict[int, Service] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # this target's, shared by its checks
    shared: dict[str, Any] = field(default_factory=dict)  # the whole run's (e.g. semaphores)

    def web_ports(self) -> list[tuple[int, bool]]:
        """Return (port, over TLS) for each web service found, HTTPS first."""
        found = [(s.port, s.tls) for s in self.services.values() if s.name == "http"]
        return sorted(found, key=lambda p: (not p[1], p[0]))

    def tls_ports(self) -> list[int]:
        return sorted(s.port for s in self.services.values() if s.tls)


class Lookups(Protocol):
    """What observing may ask of the store."""

    def vulnerabilities(self, products: Sequence[tuple[str, str, str]]) -> list[Any]: ...

    def canary_hits(self, tokens: Sequence[str]) -> dict[str, list[str]]: ...


def fields_of(result: Any) -> dict[str, Any]:
    """Return a check's result as its fields, nested records as dicts (the default serialise)."""
    return asdict(result)


@dataclass(frozen=True)
class Check(Generic[R]):
    """One scan check: its implementation, its result's observations, its serialisation."""

    name: str
    title: str
    run: Callable[[Probe], Awaitable[R]]
    observe: Callable[[R, Probe, Lookups], list[Observation]]
    covers: Callable[[R, Probe], set[int]]
    serialise: Callable[[R], dict[str, Any]] = fields_of
    blocked: Callable[[Probe], str | None] = lambda _probe: None


def web_covers(result: object, probe: Probe) -> set[int]:
    """Cover the host's web service (port 0) when the probe found one."""
    return {0} if probe.web_ports() else set()
