"""Which known vulnerabilities affect a product and version seen from outside (a scan's banner).

The same matcher and version logic as exposure matching (``matching.match`` over
the stored affected ranges), so a scan finding and a national cyber alert agree
on what a version is exposed to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.advisories.exposure import _affected_for_keys
from bastion.advisories.matching import COMPONENT_SCHEMA, explain, match
from bastion.advisories.models import VulnerabilityRow
from bastion.advisories.packages import cpe_key


@dataclass(frozen=True)
class SoftwareVulnerability:
    """One vulnerability that affects one product version, and why."""

    vendor: str
    product: str
    version: str
    vulnerability: str
    summary: str
    severity: str | None
    cvss: float | None
    kev: bool
    range: str


def software_vulnerabilities(
    session: Session, products: Sequence[tuple[str, str, str]]
) -> list[SoftwareVulnerability]:
    """Return the vulnerabilities affecting each (vendor, product, version), as CPE names them."""
    if not products:
        return []
    keys = [cpe_key(vendor, product) for vendor, product, _ in products]
    components = pl.DataFrame(
        {
            "component_id": list(range(len(products))),
            "ecosystem": ["cpe"] * len(products),
            "package": keys,
            "version": [version for _, _, version in products],
        },
        schema=COMPONENT_SCHEMA,
    )
    affected = _affected_for_keys(session, sorted({("cpe", k) for k in keys}))
    if affected.is_empty():
        return []
    hits = explain(components, match(components, affected), affected).join(
        affected.select("affected_id", "range_text"), on="affected_id"
    )
    if hits.is_empty():
        return []
    rows = {
        r.id: r
        for r in session.scalars(
            select(VulnerabilityRow).where(VulnerabilityRow.id.in_(hits["vuln_id"].to_list()))
        )
    }
    found = []
    for component_id, vuln_id, range_text in hits.select(
        "component_id", "vuln_id", "range_text"
    ).iter_rows():
        vendor, product, version = products[component_id]
        row = rows[vuln_id]
        found.append(
            SoftwareVulnerability(
                vendor=vendor,
                product=product,
                version=version,
                vulnerability=row.key,
                summary=row.summary,
                severity=row.severity,
                cvss=row.cvss_v3_score,
                kev=row.kev_date_added is not None or row.kev_due_date is not None,
                range=range_text or "",
            )
        )
    return sorted(found, key=lambda v: (v.product, v.vulnerability))
