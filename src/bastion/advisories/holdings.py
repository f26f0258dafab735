"""Reading what organisations hold and what affects it: exposures and inventories, listed.

``exposure`` keeps the exposures up to date; this module only reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.advisories.inventory import Component
from bastion.advisories.models import ComponentRow, ExposureRow, InventoryRow, VulnerabilityRow
from bastion.advisories.vulnerabilities import aliases_of, vuln_id_of
from bastion.core.errors import NotFoundError
from bastion.core.types import org_code
from bastion.store.membership import one_of


@dataclass(frozen=True)
class Exposure:
    """An organisation's component affected by a vulnerability, with why."""

    organisation: str
    inventory: str
    component: str
    version: str
    purl: str | None
    vulnerability: str
    aliases: tuple[str, ...]
    severity: str | None
    kev: bool
    range: str
    source: str
    precision: str
    status: str
    status_detail: str
    matched_at: datetime


def list_exposures(
    session: Session,
    *,
    org: str | None = None,
    vulnerability: str | None = None,
    status: str | None = None,
    inventory: str | None = None,
    vuln_ids: Sequence[int] | None = None,
    codes: Sequence[str] | None = None,
) -> list[Exposure]:
    """Return exposures, by organisation, vulnerability and component.

    ``codes`` confines them to those organisations (a caller's scope; None is all).
    """
    query = (
        select(ExposureRow, ComponentRow, InventoryRow.name, VulnerabilityRow)
        .join(ComponentRow, ComponentRow.id == ExposureRow.component_id)
        .join(InventoryRow, InventoryRow.id == ExposureRow.inventory_id)
        .join(VulnerabilityRow, VulnerabilityRow.id == ExposureRow.vuln_id)
    )
    if org is not None:
        query = query.where(ExposureRow.org_code == org_code(org))
    if codes is not None:
        query = query.where(one_of(ExposureRow.org_code, codes))
    if status is not None:
        query = query.where(ExposureRow.status == status)
    if inventory is not None:
        query = query.where(InventoryRow.name == inventory)
    if vulnerability is not None:
        query = query.where(ExposureRow.vuln_id == vuln_id_of(session, vulnerability))
    if vuln_ids is not None:
        query = query.where(ExposureRow.vuln_id.in_(list(vuln_ids)))
    query = query.order_by(
        ExposureRow.org_code, VulnerabilityRow.key, ComponentRow.name, ComponentRow.version
    )
    found = session.execute(query).all()
    aliases = aliases_of(session, {row[0].vuln_id for row in found})
    return [
        Exposure(
            organisation=e.org_code,
            inventory=inv_name,
            component=c.name,
            version=c.version,
            purl=c.purl,
            vulnerability=v.key,
            aliases=tuple(sorted(aliases.get(v.id, {v.key}) - {v.key})),
            severity=v.severity,
            kev=v.kev_due_date is not None,
            range=e.range_text,
            source=e.source,
            precision=e.precision,
            status=e.status,
            status_detail=e.status_detail,
            matched_at=e.matched_at,
        )
        for e, c, inv_name, v in found
    ]


@dataclass(frozen=True)
class InventorySummary:
    organisation: str
    name: str
    format: str
    spec_version: str
    components: int
    rejected: int
    imported_at: datetime


def list_inventories(
    session: Session, org: str | None = None, codes: Sequence[str] | None = None
) -> list[InventorySummary]:
    """Return the stored inventories, by organisation and name (only ``codes``' if given)."""
    query = select(InventoryRow).order_by(InventoryRow.org_code, InventoryRow.name)
    if org is not None:
        query = query.where(InventoryRow.org_code == org_code(org))
    if codes is not None:
        query = query.where(one_of(InventoryRow.org_code, codes))
    return [
        InventorySummary(
            r.org_code,
            r.name,
            r.format,
            r.spec_version,
            r.components,
            len(r.rejects),
            r.imported_at,
        )
        for r in session.scalars(query)
    ]


def inventory_components(session: Session, org: str, name: str) -> list[Component]:
    """Return the components of ``org``'s inventory ``name``; raise NotFoundError if none."""
    inventory = session.scalar(
        select(InventoryRow.id).where(
            InventoryRow.org_code == org_code(org), InventoryRow.name == name
        )
    )
    if inventory is None:
        msg = f"no inventory {name!r} of {org_code(org)}"
        raise NotFoundError(msg)
    return [
        Component(c.name, c.version, c.ecosystem, c.package, c.purl, c.cpe)
        for c in session.scalars(
            select(ComponentRow)
            .where(ComponentRow.inventory_id == inventory)
            .order_by(ComponentRow.name, ComponentRow.version)
        )
    ]
