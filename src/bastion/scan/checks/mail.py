"""E-mail and DNS hygiene of a registered name: SPF, DMARC, DKIM, MX, zone transfer, dangling CNAME.

SPF, DMARC and DKIM (``bastion.scan.checks.dkim``) are asked of names that
receive e-mail (have an MX record). Queries
go to ``scan_dns_server`` when set (a local server in tests), else to the
system's resolvers; a zone transfer is tried against the same server, else
against each of the name's NS servers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.query
import dns.rdatatype
import dns.resolver
import dns.xfr

from bastion.core.types import Severity
from bastion.scan.canary import split_address
from bastion.scan.checks import dkim
from bastion.scan.checks.base import Check, Lookups, Probe
from bastion.scan.domain import Evidence, Observation


@dataclass(frozen=True)
class MailResult:
    name: str | None
    mx: tuple[str, ...] = ()
    spf: str | None = None
    dmarc: str | None = None
    cname: str | None = None
    cname_dangling: bool = False
    axfr_server: str | None = None
    axfr_records: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)
    dkim: tuple[dkim.DkimKey, ...] = ()


def _resolver(probe: Probe) -> dns.asyncresolver.Resolver:
    resolver = dns.asyncresolver.Resolver(configure=probe.config.dns_server is None)
    if probe.config.dns_server:
        host, port = split_address(probe.config.dns_server)
        resolver.nameservers = [host]
        resolver.port = port
    resolver.lifetime = probe.config.read_timeout
    return resolver


async def _texts(
    probe: Probe,
    resolver: dns.asyncresolver.Resolver,
    name: str,
    kind: str,
    failed: list[str] | None = None,
) -> list[str] | None:
    """Return the records' texts; [] when none exist; None when the name does not exist.

    A query that fails (timeout, SERVFAIL) gives [] too, and its error in ``failed``.
    """
    await probe.limiter.wait(
        "request:mail", probe.target.address, probe.config.rates.requests_per_second
    )
    try:
        answer = await resolver.resolve(name, kind, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return None
    except dns.exception.DNSException as exc:
        if failed is not None:
            failed.append(f"{name} {kind}: {type(exc).__name__}")
        return []
    if kind == "TXT":
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
    return [r.to_text() for r in answer]


def _axfr(server: tuple[str, int], name: str, timeout: float) -> int:
    """Ask ``server`` for the zone ``name``; return how many record sets it handed out."""
    try:
        messages = dns.query.xfr(server[0], name, port=server[1], timeout=timeout, lifetime=timeout)
        return sum(len(message.answer) for message in messages)
    except (dns.exception.DNSException, dns.xfr.TransferError, OSError, EOFError, ConnectionError):
        return 0


async def run(probe: Probe) -> MailResult:
    name = probe.target.server_name
    if not name:
        return MailResult(None)
    resolver = _resolver(probe)
    cname = await _texts(probe, resolver, name, "CNAME")
    if cname:
        target = cname[0].rstrip(".")
        dangling = await _texts(probe, resolver, target, "A") is None
        return MailResult(name, cname=target, cname_dangling=dangling)
    mx = await _texts(probe, resolver, name, "MX") or []
    spf = dmarc = None
    if mx:
        spf = next(
            (
                t
                for t in await _texts(probe, resolver, name, "TXT") or []
                if t.lower().startswith("v=spf1")
            ),
            None,
        )
        dmarc = next(
            (
                t
                for t in await _texts(probe, resolver, f"_dmarc.{name}", "TXT") or []
                if t.lower().startswith("v=dmarc1")
            ),
            None,
        )
    keys: list[dkim.DkimKey] = []
    if mx:
        selectors, registered = dkim.selectors_for(
            probe.config.dkim_selectors.get(probe.target.org, ()), name
        )
        for selector in selectors:
            failed: list[str] = []
            where = f"{selector}._domainkey.{name}"
            texts = await _texts(probe, resolver, where, "TXT", failed) or []
            record = next((t for t in texts if "p=" in t.lower()), None)
            keys.append(
                dkim.DkimKey(selector, registered, lookup_error=failed[0])
                if failed
                else dkim.read_key(selector, registered, record)
            )
    servers: list[tuple[str, int]] = []
    if probe.config.dns_server:
        servers.append(split_address(probe.config.dns_server))
    else:
        for ns in await _texts(probe, resolver, name, "NS") or []:
            servers += [(a, 53) for a in await _texts(probe, resolver, ns, "A") or []]
    axfr_server, records = None, 0
    for server in servers[:3]:
        await probe.limiter.wait(
            "request:mail", probe.target.address, probe.config.rates.requests_per_second
        )
        records = await asyncio.to_thread(_axfr, server, name, probe.config.read_timeout)
        if records:
            axfr_server = f"{server[0]}:{server[1]}"
            break
    return MailResult(
        name, tuple(mx), spf, dmarc, axfr_server=axfr_server, axfr_records=records,
        dkim=tuple(keys),
    )  # fmt: skip


def _dmarc_policy(record: str) -> str:
    for part in record.split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "p":
            return value.strip().lower()
    return "none"


def _obs(
    result: MailResult,
    detail: str,
    title: str,
    severity: Severity,
    template: str,
    seen: str,
    **params: Any,
) -> Observation:
    return Observation(
        check="mail",
        detail=detail,
        title=title,
        severity=severity,
        port=53,
        evidence=Evidence(probe=f"DNS queries for {result.name}", response=seen),
        remediation=template,
        params=params,
        web=True,
    )


def observe(result: MailResult, probe: Probe, lookups: Lookups) -> list[Observation]:
    if not result.name:
        return []
    found = []
    if result.cname and result.cname_dangling:
        found.append(
            _obs(
                result,
                "dangling-cname",
                f"{result.name} points to a name that no longer exists",
                Severity.HIGH,
                "dns_dangling_cname",
                f"CNAME {result.cname}; {result.cname} NXDOMAIN",
                target=result.cname,
            )
        )
    if result.mx:
        mx = f"MX {', '.join(result.mx)}"
        if result.spf is None:
            found.append(
                _obs(
                    result,
                    "spf",
                    "No SPF record for a domain that receives e-mail",
                    Severity.MEDIUM,
                    "mail_spf",
                    f"{mx}; no v=spf1 TXT record",
                    record=None,
                )
            )
        elif (
            result.spf.strip().lower().endswith(("+all", " all")) or "all" not in result.spf.lower()
        ):
            found.append(
                _obs(
                    result,
                    "spf",
                    "SPF record lets any server send as the domain",
                    Severity.HIGH,
                    "mail_spf",
                    f"{mx}; {result.spf}",
                    record=result.spf,
                )
            )
        if result.dmarc is None:
            found.append(
                _obs(
                    result,
                    "dmarc",
                    "No DMARC policy for a domain that receives e-mail",
                    Severity.MEDIUM,
                    "mail_dmarc",
                    f"{mx}; no v=DMARC1 record at _dmarc.{result.name}",
                    policy=None,
                )
            )
        elif _dmarc_policy(result.dmarc) == "none":
            found.append(
                _obs(
                    result,
                    "dmarc",
                    "DMARC policy is none: forged e-mail is delivered",
                    Severity.LOW,
                    "mail_dmarc",
                    f"_dmarc.{result.name}: {result.dmarc}",
                    policy="none",
                )
            )
    for detail, title, severity, seen in dkim.problems(result.name, result.dkim):
        found.append(
            _obs(result, detail, title, severity, "mail_dkim", seen, problem=detail.split(":")[1])
        )
    if result.axfr_server:
        found.append(
            _obs(
                result,
                "zone-transfer",
                "DNS server allows a zone transfer to anyone",
                Severity.HIGH,
                "dns_zone_transfer",
                f"AXFR {result.name} from {result.axfr_server}: {result.axfr_records} record sets",
                server=result.axfr_server,
            )
        )
    return found


CHECK = Check(
    name="mail",
    title="E-mail and DNS hygiene",
    run=run,
    observe=observe,
    covers=lambda result, _probe: {0} if result.name else set(),
)
