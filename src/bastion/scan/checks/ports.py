"""Ports and services: an asyncio TCP connect scan, each open port fingerprinted.

Exposed remote-access, file-sharing and database services are findings: a
member's RDP, SMB, Telnet, VNC or database should never answer the internet.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from bastion.core.types import Severity
from bastion.scan.checks.base import Check, Lookups, Probe, Service
from bastion.scan.checks.fingerprint import exchange, fingerprint, is_open
from bastion.scan.domain import Evidence, Observation

# The short list of ports worth checking on an internet-facing host (after Artemis's).
DEFAULT_PORTS = (
    21, 22, 23, 25, 53, 80, 81, 88, 110, 111, 135, 139, 143, 389, 443, 445, 465, 502, 587,
    631, 636, 873, 993, 995, 1080, 1194, 1433, 1434, 1521, 1723, 1883, 2049, 2082, 2083,
    2086, 2087, 2181, 2375, 2376, 3000, 3128, 3268, 3306, 3389, 3690, 4443, 4848, 5000,
    5001, 5060, 5432, 5601, 5672, 5900, 5901, 5984, 5985, 5986, 6000, 6379, 6443, 7001,
    7002, 7474, 8000, 8008, 8009, 8080, 8081, 8086, 8088, 8443, 8834, 8888, 9000, 9042,
    9090, 9092, 9100, 9200, 9300, 9443, 10000, 10250, 11211, 15672, 27017, 27018, 50000,
    50070,
)  # fmt: skip

# service → (severity, why it matters), for the services that must not face the internet.
EXPOSED: dict[str, tuple[Severity, str]] = {
    "rdp": (Severity.HIGH, "remote desktop is the most common way ransomware gangs get in: they guess or reuse passwords, or use flaws in it."),
    "smb": (Severity.HIGH, "Windows file sharing on the internet has let worms such as WannaCry spread straight into networks."),
    "telnet": (Severity.HIGH, "Telnet sends passwords unencrypted and is a favourite target of automated attacks."),
    "vnc": (Severity.HIGH, "remote-control software on the internet is found and attacked within hours; many have weak or no passwords."),
    "redis": (Severity.HIGH, "a database server on the internet can be read, changed or wiped by anyone who gets past its password, if it has one."),
    "postgresql": (Severity.HIGH, "a database server on the internet invites password guessing and attacks on its flaws; patient data may be in it."),
    "mysql": (Severity.HIGH, "a database server on the internet invites password guessing and attacks on its flaws; patient data may be in it."),
    "mongodb": (Severity.HIGH, "a database server on the internet invites password guessing and attacks on its flaws; patient data may be in it."),
    "ftp": (Severity.MEDIUM, "FTP sends passwords and files unencrypted, and is often left allowing anonymous access."),
}  # fmt: skip
_NAMES = {
    "rdp": "Remote Desktop (RDP)", "smb": "Windows file sharing (SMB)", "telnet": "Telnet",
    "vnc": "VNC remote control", "redis": "Redis database", "postgresql": "PostgreSQL database",
    "mysql": "MySQL database", "mongodb": "MongoDB database", "ftp": "FTP file transfer",
}  # fmt: skip


@dataclass(frozen=True)
class PortsResult:
    scanned: tuple[int, ...]
    services: tuple[Service, ...]


async def _one(probe: Probe, port: int, gate: asyncio.Semaphore) -> Service | None:
    async with gate:
        if not await is_open(probe, port):
            return None
        greeting = await exchange(probe, port, None, wait=probe.config.banner_wait)
        if greeting is None:
            return None
        return await fingerprint(probe, port, greeting)


async def scan_ports(probe: Probe, ports: tuple[int, ...]) -> PortsResult:
    """Connect to every port, fingerprint the open ones; keep them on the probe for later checks."""
    gate = asyncio.Semaphore(min(256, max(1, probe.config.max_connections)))
    found = await asyncio.gather(*(_one(probe, p, gate) for p in ports))
    services = tuple(s for s in found if s is not None)
    probe.services = {s.port: s for s in services}
    return PortsResult(tuple(ports), services)


async def run(probe: Probe) -> PortsResult:
    return await scan_ports(probe, probe.config.ports)


def observe(result: PortsResult, probe: Probe, lookups: Lookups) -> list[Observation]:
    found = []
    for service in result.services:
        exposed = EXPOSED.get(service.name)
        if exposed is None:
            continue
        severity, why = exposed
        if service.name == "redis" and not service.extra.get("auth", True):
            severity = Severity.CRITICAL
            why = "this Redis answers without any password: anyone can read or change its data and often take over the server."
        name = _NAMES[service.name]
        found.append(
            Observation(
                check="ports",
                detail=f"exposed:{service.name}",
                title=f"{name} is open to the internet",
                severity=severity,
                port=service.port,
                evidence=Evidence(
                    probe=f"TCP connect to {probe.target.address}:{service.port} and {service.name} probe",
                    response=service.banner,
                ),
                remediation="exposed_service",
                params={"service": name, "why": why},
            )
        )
    return found


def serialise(result: PortsResult) -> dict[str, Any]:
    return {
        "scanned": len(result.scanned),
        "open": [asdict(s) for s in result.services],
    }


CHECK = Check(
    name="ports",
    title="Ports and services",
    run=run,
    observe=observe,
    serialise=serialise,
    covers=lambda result, _probe: set(result.scanned),
)
