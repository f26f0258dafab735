"""The demo's scan: a few members' hosts played by the loopback scan lab, scanned once.

Registers the lab's organisations and hosts (127.0.53.x only), a KEV record for the
lab's vulnerable web server, starts the lab in a child process, scans it with the
politeness limits raised, and stops the lab: the console opens with real findings.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from bastion import orgs, scan
from bastion.advisories import save_records
from bastion.advisories.vulns import AffectedRange, Kev, VulnRecord
from bastion.audit import Actor
from bastion.core.settings import Settings
from bastion.demo.scanlab import DKIM_SELECTORS, ORGANISATIONS, Lab, LabProcess
from bastion.store import Store

APACHE_KEV = VulnRecord(
    id="CVE-2021-41773",
    source="kev",
    summary="Apache HTTP Server 2.4.49 path traversal and file disclosure",
    severity="critical",
    affected=(AffectedRange("cpe", "apache:http_server", "2.4.49", True, "2.4.49", True),),
    kev=Kev("Apache", "HTTP Server", "Path traversal", date(2021, 11, 3), date(2021, 11, 17), None),
)


def lab_scan_settings(settings: Settings, ports: list[int], ca_file: Path, dns: str) -> Settings:
    """Return ``settings`` made for scanning the lab: loopback allowed, limits raised."""
    return settings.model_copy(
        update={
            "scan_allow_private": True,
            "scan_ports": ports,
            "scan_packet_rate": 10_000.0,
            "scan_request_rate": 10_000.0,
            "scan_banner_wait_seconds": 0.2,
            "scan_connect_timeout": 4.0,
            "scan_read_timeout": 4.0,
            "scan_trust_ca_file": ca_file,
            "scan_dns_server": dns,
            "redis_url": None,
        }
    )


def register_lab(store: Store, lab: Lab, actor: Actor) -> None:
    """Register the lab's organisations, hosts and DKIM selectors, and Apache 2.4.49's KEV record."""
    with store.session() as session:
        for code, name, kind, parent in ORGANISATIONS:
            hosts = tuple(orgs.Host(h.hostname, h.address) for h in lab.hosts if h.org == code)
            organisation = orgs.Organisation(code, name, orgs.OrgType(kind), parent, hosts=hosts)
            orgs.save_organisation(session, organisation, actor=actor)
            if code in DKIM_SELECTORS:
                scan.set_policy(
                    session, scan.ScanPolicy(code, dkim_selectors=DKIM_SELECTORS[code]), actor=actor
                )
        save_records(session, [APACHE_KEV])


def scan_demo(store: Store, settings: Settings, actor: Actor) -> str:
    """Register the lab's members, scan their hosts once; return what was found."""
    with tempfile.TemporaryDirectory(prefix="bastion-scanlab-") as folder:
        running = LabProcess(Path(folder))
        try:
            lab = running.lab
            register_lab(store, lab, actor)
            config = lab_scan_settings(settings, lab.ports, lab.ca_file, lab.dns_address)
            with store.session() as session:
                targets, _ = scan.organisation_targets(
                    session, [code for code, *_ in ORGANISATIONS], allow_private=True
                )
                report = scan.scan(session, targets, config, actor=actor, ignore_quiet_hours=True)
        finally:
            running.close()
    return (
        f"scanned {len(report.scanned)} lab hosts on 127.0.53.x: "
        f"{len(report.changes.opened)} findings, {report.changes.alerts} alerts"
    )
