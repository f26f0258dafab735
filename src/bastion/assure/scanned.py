"""Evidence from the internet-facing scan: open findings of the ``scan`` context per organisation.

Three kinds of open finding answer different statements:

* exposed services (the ``ports`` check: RDP, SMB, databases open to the internet)
  contradict the firewall controls: Cyber Essentials ``fw.3`` (no remote
  administration exposed), DSPT ``9.1`` (inbound connections not needed are
  blocked), CAF ``B4.c.6`` (administration only from trusted devices);
* TLS findings (expired, untrusted or weak certificates, old protocols) answer
  data in transit: CAF ``B3.b.7`` and DSPT ``9.3``;
* web findings (missing security headers, exposed files, vulnerable software, a
  Log4Shell callback) answer DSPT ``9.3`` (internet-facing services scanned and
  findings fixed) and CAF ``B4.d.11`` (exposure to known vulnerabilities understood).

A kind is met when none of its findings is open at high or critical severity; an
open high or critical finding is drift (it contradicts a published "met"). An
organisation none of whose hosts was ever scanned gives no finding: no evidence
either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bastion import scan
from bastion.assure.evidence import Finding
from bastion.core.scope import Scope

SERIOUS = ("high", "critical")
KINDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # (what, the checks whose findings count, the statements they answer)
    ("exposed service", ("ports",), ("cyber-essentials:fw.3", "dspt:9.1", "ncsc-caf:B4.c.6")),
    ("TLS", ("tls",), ("ncsc-caf:B3.b.7", "dspt:9.3")),
    ("web", ("headers", "files", "software", "log4shell"), ("dspt:9.3", "ncsc-caf:B4.d.11")),
)


def internet_facing(session: Session, org: str, now: datetime) -> list[Finding]:
    """Findings about ``org``'s firewalls, TLS and web services from its open scan findings."""
    del now  # the scan's findings are as of its last scan; open means open now
    scope = Scope.of([org])
    found, total = scan.list_findings(session, scope, org=org)
    if not total and not any(
        h.last_scan_at for h in scan.organisation_report(session, scope, org)["hosts"]
    ):
        return []
    live = [f for f in found if f.status is scan.Status.OPEN]
    return [
        _finding(org, what, statements, [f for f in live if f.check in checks])
        for what, checks, statements in KINDS
    ]


def _finding(
    org: str, what: str, statements: tuple[str, ...], found: Sequence[scan.Finding]
) -> Finding:
    serious = [f for f in found if f.severity.value in SERIOUS]
    named = ", ".join(sorted({f"{f.title} ({f.host})" for f in serious})[:3])
    summary = (
        f"{len(found)} open {what} finding(s) from the internet-facing scan, "
        f"{len(serious)} high or critical" + (f": {named}" if named else "")
    )
    link = f"/scan?org={org}&status=open"
    return Finding("scan", statements, not serious, summary, link, drift=bool(serious))
