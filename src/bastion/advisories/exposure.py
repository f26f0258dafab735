"""Exposure: which organisations' components each vulnerability affects, kept up to date.

Matching runs incrementally both ways — a new inventory against every stored
range of its packages, a new or changed vulnerability against every component of
its packages — and in full (``rematch_all``). Every exposure explains itself: the
component and version, the range it falls in, and the record that gave the range.
VEX statements then mark exposures ``not_affected`` or ``fixed`` (or confirm them
``affected``), per organisation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from bastion import audit, orgs
from bastion.advisories.holdings import list_exposures
from bastion.advisories.inventory import Component, Inventory, parse_inventory
from bastion.advisories.matching import AFFECTED_SCHEMA, COMPONENT_SCHEMA, explain, match
from bastion.advisories.models import (
    AffectedRow,
    AliasRow,
    ComponentRow,
    ExposureRow,
    InventoryRow,
    VexRow,
    VulnerabilityRow,
)
from bastion.advisories.packages import parse_purl
from bastion.advisories.vex import VexStatement, covers
from bastion.advisories.vulnerabilities import aliases_of
from bastion.audit import Actor
from bastion.core.errors import InputError, NotFoundError
from bastion.core.timeutil import utcnow
from bastion.core.types import org_code

_CHUNK = 400


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- frames from the store ---------------------------------------------------------


def _component_frame(rows: Iterable[Any]) -> pl.DataFrame:
    """Build the matcher's components frame: one row per package key of a component."""
    ids, ecos, pkgs, versions = [], [], [], []
    for cid, eco, pkg, version, cpe_pkg, cpe_version in rows:
        ids.append(cid)
        ecos.append(eco)
        pkgs.append(pkg)
        versions.append(version)
        if cpe_pkg and eco != "cpe":
            ids.append(cid)
            ecos.append("cpe")
            pkgs.append(cpe_pkg)
            versions.append(cpe_version or version)
    return pl.DataFrame(
        {"component_id": ids, "ecosystem": ecos, "package": pkgs, "version": versions},
        schema=COMPONENT_SCHEMA,
    )


_COMPONENT_COLUMNS = (
    ComponentRow.id,
    ComponentRow.ecosystem,
    ComponentRow.package,
    ComponentRow.version,
    ComponentRow.cpe_package,
    ComponentRow.cpe_version,
)
_AFFECTED_COLUMNS = (
    AffectedRow.id,
    AffectedRow.vuln_id,
    AffectedRow.ecosystem,
    AffectedRow.package,
    AffectedRow.lo,
    AffectedRow.lo_incl,
    AffectedRow.hi,
    AffectedRow.hi_incl,
    AffectedRow.precision,
    AffectedRow.source,
    AffectedRow.range_text,
)
_AFFECTED_FRAME_SCHEMA = {
    **AFFECTED_SCHEMA,
    "vuln_id": pl.Int64,
    "source": pl.String,
    "range_text": pl.String,
}


def _affected_frame(rows: Iterable[Any]) -> pl.DataFrame:
    names = ["affected_id", "vuln_id", "ecosystem", "package", "lo", "lo_incl", "hi", "hi_incl",
             "precision", "source", "range_text"]  # fmt: skip
    frame = pl.DataFrame(
        [tuple(r) for r in rows], schema={n: _AFFECTED_FRAME_SCHEMA[n] for n in names}, orient="row"
    )
    return drop_superseded_products(frame)


def drop_superseded_products(affected: pl.DataFrame) -> pl.DataFrame:
    """Drop product-level ranges of a vulnerability that also has versioned ranges of the package.

    KEV names a product but no versions; once an advisory says which versions, the
    product-wide entry would only add false exposures.
    """
    versioned = affected.filter(pl.col("precision") == "version").select(
        "vuln_id", "ecosystem", "package"
    )
    product = affected.filter(pl.col("precision") == "product").join(
        versioned.unique(), on=["vuln_id", "ecosystem", "package"], how="anti"
    )
    return pl.concat([affected.filter(pl.col("precision") != "product"), product])


def _rows_where(
    session: Session,
    columns: Sequence[Any],
    condition: Callable[[Sequence[Any]], Any],
    values: Sequence[Any],
) -> list[Any]:
    """Select ``columns`` where ``condition(chunk)``, a chunk of ``values`` at a time."""
    rows: list[Any] = []
    for chunk in _chunks(values):
        rows.extend(session.execute(select(*columns).where(condition(chunk))).all())
    return rows


def _components_for_keys(session: Session, keys: Sequence[tuple[str, str]]) -> pl.DataFrame:
    cpe_names = sorted({p for e, p in keys if e == "cpe"})
    pairs = tuple_(ComponentRow.ecosystem, ComponentRow.package)
    rows = _rows_where(session, _COMPONENT_COLUMNS, pairs.in_, list(keys))
    rows += _rows_where(session, _COMPONENT_COLUMNS, ComponentRow.cpe_package.in_, cpe_names)
    return _component_frame(dict.fromkeys(tuple(r) for r in rows))


def _affected_for_keys(session: Session, keys: Sequence[tuple[str, str]]) -> pl.DataFrame:
    pairs = tuple_(AffectedRow.ecosystem, AffectedRow.package)
    return _affected_frame(_rows_where(session, _AFFECTED_COLUMNS, pairs.in_, list(keys)))


def _explained_hits(components: pl.DataFrame, affected: pl.DataFrame) -> pl.DataFrame:
    """Match, then keep one explanation per (component, vulnerability): versioned first."""
    return (
        explain(components, match(components, affected), affected)
        .join(affected.select("affected_id", "source", "range_text", "precision"), on="affected_id")
        .select("component_id", "vuln_id", "affected_id", "source", "range_text", "precision")
    )


def _store_hits(
    session: Session,
    hits: pl.DataFrame,
    scope_components: Sequence[int] | None = None,
    scope_vulns: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Make the stored exposures in scope equal ``hits``: insert new, delete vanished.

    Exposures created from VEX 'affected' statements are left alone (VEX owns them).
    Return (created, removed).
    """
    existing: dict[tuple[int, int], int] = {}
    query = select(ExposureRow.component_id, ExposureRow.vuln_id, ExposureRow.id).where(
        ~ExposureRow.source.startswith("vex:")
    )
    if scope_components is not None:
        for chunk in _chunks(list(scope_components)):
            for cid, vid, eid in session.execute(query.where(ExposureRow.component_id.in_(chunk))):
                existing[(cid, vid)] = eid
    if scope_vulns is not None:
        for chunk in _chunks(list(scope_vulns)):
            for cid, vid, eid in session.execute(query.where(ExposureRow.vuln_id.in_(chunk))):
                existing[(cid, vid)] = eid
    wanted = {(r[0], r[1]): r for r in hits.iter_rows()}
    gone = [eid for key, eid in existing.items() if key not in wanted]
    for chunk in _chunks(gone):
        session.execute(delete(ExposureRow).where(ExposureRow.id.in_(chunk)))
    new = [key for key in wanted if key not in existing]
    vex_owned: set[tuple[int, int]] = set()
    for chunk in _chunks([k[0] for k in new]):
        vex_owned.update(
            session.execute(
                select(ExposureRow.component_id, ExposureRow.vuln_id).where(
                    ExposureRow.component_id.in_(chunk), ExposureRow.source.startswith("vex:")
                )
            )
        )
    info: dict[int, tuple[str, int]] = {}
    for chunk in _chunks(sorted({k[0] for k in new})):
        for cid, org, inv in session.execute(
            select(ComponentRow.id, ComponentRow.org_code, ComponentRow.inventory_id).where(
                ComponentRow.id.in_(chunk)
            )
        ):
            info[cid] = (org, inv)
    now = utcnow()
    rows = []
    for key in new:
        if key in vex_owned:
            continue
        cid, vid, _aid, source, range_text, precision = wanted[key]
        org, inv = info[cid]
        rows.append(
            {
                "org_code": org,
                "inventory_id": inv,
                "component_id": cid,
                "vuln_id": vid,
                "source": source,
                "range_text": range_text,
                "precision": precision,
                "status": "affected",
                "status_detail": "",
                "matched_at": now,
            }
        )
    if rows:
        session.execute(insert(ExposureRow), rows)
    session.flush()
    return len(rows), len(gone)


# --- incremental matching ----------------------------------------------------------


def match_inventory(session: Session, inventory_id: int) -> int:
    """Match one inventory's components against every stored range; return exposures created."""
    comp_rows = session.execute(
        select(*_COMPONENT_COLUMNS).where(ComponentRow.inventory_id == inventory_id)
    ).all()
    components = _component_frame(comp_rows)
    keys = list(components.select("ecosystem", "package").unique().iter_rows())
    affected = _affected_for_keys(session, keys) if keys else _affected_frame([])
    hits = _explained_hits(components, affected)
    created, _ = _store_hits(session, hits, scope_components=[r[0] for r in comp_rows])
    return created


def match_vulnerabilities(session: Session, vuln_ids: Iterable[int]) -> int:
    """Match changed vulnerabilities against every inventory; return exposures created.

    Only the components of the vulnerabilities' packages are read.
    """
    ids = sorted(set(vuln_ids))
    if not ids:
        return 0
    rows: list[Any] = []
    for chunk in _chunks(ids):
        rows.extend(
            session.execute(select(*_AFFECTED_COLUMNS).where(AffectedRow.vuln_id.in_(chunk))).all()
        )
    own = _affected_frame(rows)
    keys = list(own.select("ecosystem", "package").unique().iter_rows())
    components = _components_for_keys(session, keys) if keys else _component_frame([])
    hits = _explained_hits(components, own)
    created, _ = _store_hits(session, hits, scope_vulns=ids)
    # VEX statements of the organisations holding statements on these vulnerabilities.
    identifiers = sorted({a for names in aliases_of(session, ids).values() for a in names})
    touched: set[str] = set()
    for chunk in _chunks(identifiers):
        touched.update(
            session.scalars(select(VexRow.org_code).where(VexRow.vulnerability.in_(chunk)))
        )
    apply_vex(session, sorted(touched))
    return created


def rematch_all(session: Session, *, actor: Actor) -> int:
    """Match every inventory against every range from scratch (audited); return the exposures."""
    components = _component_frame(session.execute(select(*_COMPONENT_COLUMNS)).all())
    affected = _affected_frame(session.execute(select(*_AFFECTED_COLUMNS)).all())
    hits = _explained_hits(components, affected)
    every_component = [c for (c,) in session.execute(select(ComponentRow.id))]
    _store_hits(session, hits, scope_components=every_component)
    apply_vex(session, [o for (o,) in session.execute(select(InventoryRow.org_code).distinct())])
    audit.record(session, actor, "exposure.rematch", "exposures", after={"held": hits.height})
    return hits.height


# --- inventories -------------------------------------------------------------------


@dataclass
class InventoryReport:
    """What an inventory import did, component by component where it could not."""

    organisation: str
    inventory: str
    format: str
    spec_version: str
    components: int
    rejected: list[dict[str, Any]] = field(default_factory=list)
    vex_statements: int = 0
    exposures: int = 0


def import_inventory(
    session: Session, org: str, data: bytes, name: str, *, actor: Actor
) -> InventoryReport:
    """Store an organisation's inventory (replacing one of the same name) and match it.

    A file that cannot be read is rejected whole before anything changes; components
    that cannot be matched (no version, a bad purl) are reported one by one while the
    rest are kept. The import is one audit event (``inventory.import``), its VEX
    statements included.
    """
    code = org_code(org)
    if not orgs.organisation_ids(session, [code]):
        msg = f"no organisation with code {code!r}"
        raise NotFoundError(msg)
    parsed = parse_inventory(data, name)
    report = InventoryReport(code, name, parsed.format, parsed.spec_version, 0)
    report.rejected = [
        {"index": r.index, "name": r.name, "reason": r.reason} for r in parsed.rejects
    ]
    has_components = bool(parsed.components or parsed.rejects or parsed.root)
    if not has_components and not parsed.vex:
        msg = "inventory holds no components and no VEX statements"
        raise InputError(msg)
    before: dict[str, Any] | None = None
    if has_components:
        inventory_id, before = _replace_inventory(session, code, name, parsed)
        report.components = len(parsed.components) + (1 if parsed.root else 0)
    if parsed.vex:
        report.vex_statements = _replace_vex(session, code, name, parsed.vex)
    if has_components:
        match_inventory(session, inventory_id)
    apply_vex(session, [code])
    report.exposures = len(list_exposures(session, org=code, status="affected", inventory=name))
    audit.record(
        session,
        actor,
        "inventory.import",
        f"inventory:{code}/{name}",
        org=code,
        before=before,
        after={
            "format": parsed.format,
            "components": report.components,
            "rejected": len(parsed.rejects),
            "vex_statements": report.vex_statements,
            "exposures": report.exposures,
        },
    )
    return report


def _replace_inventory(
    session: Session, code: str, name: str, parsed: Inventory
) -> tuple[int, dict[str, Any] | None]:
    """Replace the organisation's inventory of this name; return its id and what it held."""
    row = session.scalar(
        select(InventoryRow).where(InventoryRow.org_code == code, InventoryRow.name == name)
    )
    before = None
    if row is not None:
        before = {"components": row.components, "format": row.format}
        session.execute(delete(ExposureRow).where(ExposureRow.inventory_id == row.id))
        session.execute(delete(ComponentRow).where(ComponentRow.inventory_id == row.id))
    else:
        row = InventoryRow(org_code=code, name=name)
        session.add(row)
    every: list[Component] = ([parsed.root] if parsed.root else []) + parsed.components
    row.format, row.spec_version, row.serial = parsed.format, parsed.spec_version, parsed.serial
    row.root_ref, row.root_name, row.root_version = (
        parsed.root_ref,
        parsed.root_name[:300],
        parsed.root_version[:100],
    )
    row.components = len(every)
    row.rejects = [{"index": r.index, "name": r.name, "reason": r.reason} for r in parsed.rejects]
    row.imported_at = utcnow()
    session.flush()
    if every:
        session.execute(
            insert(ComponentRow),
            [
                {
                    "inventory_id": row.id,
                    "org_code": code,
                    "name": c.name[:300],
                    "version": c.version[:100],
                    "ecosystem": c.ecosystem,
                    "package": c.package[:300],
                    "purl": c.purl[:1000] if c.purl else None,
                    "cpe": c.cpe[:500] if c.cpe else None,
                    "cpe_package": c.cpe_package,
                    "cpe_version": c.cpe_version,
                    "bom_ref": c.bom_ref[:1000] if c.bom_ref else None,
                }
                for c in every
            ],
        )
    session.flush()
    return row.id, before


def _replace_vex(session: Session, code: str, name: str, statements: list[VexStatement]) -> int:
    session.execute(delete(VexRow).where(VexRow.org_code == code, VexRow.document == name))
    for s in statements:
        session.add(
            VexRow(
                org_code=code,
                vulnerability=s.vulnerability,
                product=s.product,
                serial=s.serial,
                versions=list(s.versions),
                status=s.status,
                justification=s.justification[:100],
                detail=s.detail,
                document=name,
            )
        )
    session.flush()
    return len(statements)


# --- VEX ---------------------------------------------------------------------------

_PRECEDENCE = ("affected", "fixed", "not_affected")


def _ensure_vulnerability(session: Session, identifier: str) -> int:
    found = session.scalar(select(AliasRow.vuln_id).where(AliasRow.alias == identifier))
    if found is not None:
        return found
    row = VulnerabilityRow(key=identifier, summary="", sources=[f"vex:{identifier}"], references=[])
    session.add(row)
    session.flush()
    session.add(AliasRow(alias=identifier, vuln_id=row.id))
    session.flush()
    return row.id


def _statement_applies(
    statement: VexRow, component: ComponentRow, inventory: InventoryRow
) -> str | None:
    """Return the version the statement is checked against for this component, or None."""
    product = statement.product
    serial_ok = (
        statement.serial is None
        or inventory.serial is None
        or (statement.serial.lower() == inventory.serial.lower())
    )
    if component.bom_ref and product == component.bom_ref and serial_ok:
        return component.version
    if inventory.root_ref and product == inventory.root_ref and serial_ok:
        return inventory.root_version
    if product.startswith("pkg:") and component.purl:
        try:
            ref = parse_purl(product)
        except InputError:
            return None
        if (ref.ecosystem, ref.name) == (component.ecosystem, component.package):
            return component.version
    return None


def apply_vex(session: Session, org_codes: Sequence[str]) -> None:
    """Re-derive exposure statuses from the organisations' VEX statements."""
    for code in org_codes:
        statements = list(
            session.scalars(select(VexRow).where(VexRow.org_code == code).order_by(VexRow.id))
        )
        if not statements:
            continue
        by_vuln: dict[int, list[VexRow]] = {}
        for s in statements:
            by_vuln.setdefault(_ensure_vulnerability(session, s.vulnerability), []).append(s)
        inventories = {
            i.id: i
            for i in session.scalars(select(InventoryRow).where(InventoryRow.org_code == code))
        }
        components = list(
            session.scalars(select(ComponentRow).where(ComponentRow.org_code == code))
        )
        exposures = {
            (e.component_id, e.vuln_id): e
            for e in session.scalars(select(ExposureRow).where(ExposureRow.org_code == code))
        }
        now = utcnow()
        for vuln_id, vex_rows in by_vuln.items():
            for component in components:
                inventory = inventories[component.inventory_id]
                verdicts: dict[str, VexRow] = {}
                for s in vex_rows:
                    version = _statement_applies(s, component, inventory)
                    if version is None:
                        continue
                    as_statement = VexStatement(
                        s.vulnerability, s.product, s.serial, tuple(s.versions), s.status
                    )
                    if covers(as_statement, version):
                        verdicts.setdefault(s.status, s)
                status = next((p for p in _PRECEDENCE if p in verdicts), None)
                exposure = exposures.get((component.id, vuln_id))
                if status is None:
                    if exposure is not None and exposure.source.startswith("vex:"):
                        session.delete(exposure)
                    elif exposure is not None and exposure.status_detail.startswith("VEX"):
                        exposure.status, exposure.status_detail = "affected", ""
                    continue
                chosen = verdicts[status]
                detail = f"VEX {chosen.document}: {chosen.status}" + (
                    f" ({chosen.justification})" if chosen.justification else ""
                )
                if exposure is None:
                    if status != "affected":
                        continue
                    session.add(
                        ExposureRow(
                            org_code=code,
                            inventory_id=component.inventory_id,
                            component_id=component.id,
                            vuln_id=vuln_id,
                            source=f"vex:{chosen.document}"[:300],
                            range_text=", ".join(chosen.versions)[:200] or "all versions",
                            precision="version",
                            status="affected",
                            status_detail=detail[:1000],
                            matched_at=now,
                        )
                    )
                else:
                    exposure.status, exposure.status_detail = status, detail[:1000]
        session.flush()
