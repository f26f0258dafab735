"""Canary hits in the store: the listener writes them, the Log4Shell check reads them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bastion.core.timeutil import utcnow
from bastion.scan.canary import Hit
from bastion.scan.models import ScanCanaryHitRow


def record_hit(session: Session, hit: Hit) -> None:
    """Store one lookup of a canary name (not audited: it is an observation, not a change)."""
    session.add(
        ScanCanaryHitRow(
            token=hit.token, qname=hit.qname[:253], source=hit.source[:64], at=utcnow()
        )
    )
