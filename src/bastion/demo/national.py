"""The demo's national alert work: vulnerability records, inventories, exposures, responses.

`bastion init --demo` calls `load_demo_advisories` once: it imports the demo's own
vulnerability records (``bastion.demo.vulnerabilities``), loads the demo SBOMs of
every trust and ICB (and one with vulnerable Log4j for the demo lead's
organisations), publishes a national Log4Shell alert to every organisation
exposed, and has about half of the organisations other than the lead's
acknowledge it, so the console opens with exposures, a published alert, and
members who have and have not answered it. Everything goes through the
advisories services, audited like any other change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bastion import advisories as adv
from bastion.advisories.importers import parse_osv_record
from bastion.advisories.vulns import ImportResult
from bastion.audit import Actor
from bastion.demo.inventories import demo_inventories
from bastion.demo.vulnerabilities import DEMO_OSV_RECORDS, LOG4SHELL_CVES
from bastion.orgs import list_organisations

DEMO_SOURCE = "bastion-demo"


def demo_alert_content() -> adv.AlertContent:
    """Return the demo national alert's content: Log4Shell and its follow-ups."""
    return adv.AlertContent(
        title="Log4Shell: remote code execution in Apache Log4j 2 (demo)",
        severity=adv.AlertSeverity.HIGH,
        summary="Apache Log4j 2 before 2.15.0 lets an attacker who controls logged text run code; "
        "2.15.0 and 2.16.0 left related flaws (CVE-2021-45046, CVE-2021-44832).",
        affected_products="Applications bundling log4j-core 2.0-beta9 to 2.17.0.",
        remediation="Upgrade log4j-core to 2.17.1 or later; until then remove the JndiLookup class.",
        cves=LOG4SHELL_CVES,
    )


def lead_sbom(code: str) -> bytes:
    """Return a CycloneDX SBOM for the lead's organisation with Log4Shell-exposed components."""
    components = [
        ("org.apache.logging.log4j", "log4j-core", "2.14.1"),
        ("org.apache.commons", "commons-text", "1.9"),
        ("org.springframework", "spring-core", "5.3.31"),
    ]
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "component": {"type": "application", "bom-ref": f"{code}-reporting",
                          "name": f"{code} clinical reporting", "version": "3.2"}
        },
        "components": [
            {"type": "library", "group": g, "name": n, "version": v,
             "purl": f"pkg:maven/{g}/{n}@{v}"}
            for g, n, v in components
        ],
    }  # fmt: skip
    return json.dumps(doc, indent=1).encode()


def load_demo_vulnerabilities(session: Session, *, actor: Actor) -> int:
    """Import the demo's own vulnerability records (audited once); return how many."""
    records = [parse_osv_record(doc, DEMO_SOURCE) for doc in DEMO_OSV_RECORDS]
    adv.import_intel(session, ImportResult("osv", records=records), DEMO_SOURCE, actor=actor)
    return len(records)


@dataclass(frozen=True)
class DemoAdvisories:
    vulnerabilities: int
    inventories: int
    exposures: int
    ref: str
    targets: tuple[str, ...]
    acknowledged: tuple[str, ...]
    emails_sent: int
    emails_failed: int


def load_demo_advisories(
    session: Session,
    *,
    actor: Actor,
    lead_codes: Sequence[str],
    policy: adv.Policy,
    smtp: adv.SmtpConfig,
    seed: int = 7,
) -> DemoAdvisories:
    """Import the demo vulnerabilities and inventories, publish the alert, answer some of it."""
    vulnerabilities = load_demo_vulnerabilities(session, actor=actor)
    held, _ = list_organisations(session)
    loaded = demo_inventories(held, seed)
    exposures = 0
    for code, name, data in loaded:
        exposures += adv.import_inventory(session, code, data, name, actor=actor).exposures
    for code in lead_codes:
        exposures += adv.import_inventory(
            session, code, lead_sbom(code), "reporting.cdx.json", actor=actor
        ).exposures
    ref = adv.draft_alert(
        session, demo_alert_content(), author=actor, organisations=tuple(lead_codes)
    ).ref
    report = adv.publish(session, ref, actor=actor, policy=policy, smtp=smtp)
    others = [code for code in report.targets if code not in lead_codes]
    acknowledged = others[::2]
    if acknowledged:
        adv.acknowledge(session, ref, acknowledged, actor=actor)
        adv.set_applicability(
            session, ref, acknowledged[::3], adv.Applicability.APPLICABLE.value, actor=actor,
            policy=policy,
        )  # fmt: skip
    return DemoAdvisories(
        vulnerabilities=vulnerabilities,
        inventories=len(loaded) + len(lead_codes),
        exposures=exposures,
        ref=ref,
        targets=tuple(report.targets),
        acknowledged=tuple(acknowledged),
        emails_sent=report.emails_sent,
        emails_failed=report.emails_failed,
    )
