"""Storing vulnerability intelligence: one vulnerability per set of aliases, records merged."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bastion.advisories.models import AffectedRow, AliasRow, EpssRow, ExposureRow, VulnerabilityRow
from bastion.advisories.vulns import EpssScore, VulnRecord, is_cve
from bastion.core.errors import NotFoundError
from bastion.core.records import from_row, must_exist

_CHUNK = 500


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass(frozen=True)
class SaveReport:
    created: int
    updated: int
    vuln_ids: frozenset[int]  # every vulnerability whose affected ranges may have changed


def _alias_map(session: Session, identifiers: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(identifiers):
        found.update(
            session.execute(
                select(AliasRow.alias, AliasRow.vuln_id).where(AliasRow.alias.in_(chunk))
            ).all()
        )
    return found


def _merge_into(session: Session, keep: VulnerabilityRow, other_ids: set[int]) -> None:
    """Fold other vulnerabilities into ``keep``: their aliases and ranges move, exposures go."""
    ids = list(other_ids)
    session.execute(update(AliasRow).where(AliasRow.vuln_id.in_(ids)).values(vuln_id=keep.id))
    session.execute(update(AffectedRow).where(AffectedRow.vuln_id.in_(ids)).values(vuln_id=keep.id))
    session.execute(delete(ExposureRow).where(ExposureRow.vuln_id.in_(ids)))
    for row in session.scalars(select(VulnerabilityRow).where(VulnerabilityRow.id.in_(ids))):
        keep.sources = sorted({*keep.sources, *row.sources})
        session.delete(row)


def _create_unknown(
    session: Session, records: Sequence[VulnRecord], aliases: dict[str, int]
) -> dict[int, VulnerabilityRow]:
    """Create, in one flush, a vulnerability for each group of records no stored alias names.

    Records of one batch that share an identifier (a GHSA and its CVE record) form
    one group; ``aliases`` gains every identifier of the new vulnerabilities.
    """
    pending: dict[str, VulnerabilityRow] = {}
    for record in records:
        if any(i in aliases for i in record.identifiers):
            continue
        groups = list(
            {id(pending[i]): pending[i] for i in record.identifiers if i in pending}.values()
        )
        row = groups[0] if groups else VulnerabilityRow(key=record.key, sources=[], references=[])
        if not groups:
            session.add(row)
        for other in groups[1:]:  # this record bridges two new groups: fold them
            for identifier, held in list(pending.items()):
                if held is other:
                    pending[identifier] = row
            session.expunge(other)
        for identifier in record.identifiers:
            pending[identifier] = row
    if not pending:
        return {}
    session.flush()
    for identifier, row in pending.items():
        session.add(AliasRow(alias=identifier, vuln_id=row.id))
        aliases[identifier] = row.id
    return {row.id: row for row in pending.values()}


def save_records(session: Session, records: Sequence[VulnRecord]) -> SaveReport:
    """Create or update the vulnerabilities the records describe; aliases join records.

    A GHSA record and the CVE it aliases land on one vulnerability, keyed by the CVE;
    re-importing a record replaces the ranges that record gave and nothing else.
    """
    identifiers = sorted({i for r in records for i in r.identifiers})
    aliases = _alias_map(session, identifiers)
    # Hold every row this import touches: the identity map keeps only weak references,
    # and a row reloaded per record would cost a query and an autoflush each.
    rows = _create_unknown(session, records, aliases)
    created_ids = set(rows)
    created, updated = len(created_ids), 0
    known = sorted({v for v in aliases.values() if v not in rows})
    for start in range(0, len(known), _CHUNK):
        for row in session.scalars(
            select(VulnerabilityRow).where(VulnerabilityRow.id.in_(known[start : start + _CHUNK]))
        ):
            rows[row.id] = row
    touched: set[int] = set()
    replaced_sources: list[str] = []
    for record in records:
        ids = {aliases[i] for i in record.identifiers if i in aliases}
        if not ids:  # pragma: no cover - _create_unknown gave every record a vulnerability
            msg = f"{record.key} has no vulnerability"
            raise NotFoundError(msg)
        keep_id = min(ids)
        found = rows.get(keep_id) or session.get(VulnerabilityRow, keep_id)
        if found is None:  # pragma: no cover - alias rows point at existing vulnerabilities
            msg = f"alias of {record.key} points at a missing vulnerability"
            raise NotFoundError(msg)
        row = found
        if len(ids) > 1:
            _merge_into(session, row, ids - {keep_id})
            for alias, vid in list(aliases.items()):
                if vid in ids:
                    aliases[alias] = keep_id
        if keep_id not in created_ids:
            updated += 1
            created_ids.add(keep_id)  # count each vulnerability once
        rows[row.id] = row
        if not is_cve(row.key) and is_cve(record.key):
            row.key = record.key
        for identifier in record.identifiers:
            if aliases.get(identifier) != row.id:
                if identifier not in aliases:
                    session.add(AliasRow(alias=identifier, vuln_id=row.id))
                aliases[identifier] = row.id
        _apply(row, record)
        source = f"{record.source}:{record.id}"
        row.sources = sorted({*row.sources, source})
        replaced_sources.append(source)
        touched.add(row.id)
    session.flush()
    for chunk in _chunks(replaced_sources):
        session.execute(delete(AffectedRow).where(AffectedRow.source.in_(chunk)))
    new_ranges = [
        {
            "vuln_id": aliases[record.identifiers[0]],
            "source": f"{record.source}:{record.id}",
            "ecosystem": a.ecosystem,
            "package": a.package[:300],
            "lo": a.lo,
            "lo_incl": a.lo_incl,
            "hi": a.hi,
            "hi_incl": a.hi_incl,
            "precision": a.precision,
            "range_text": a.text[:200],
        }
        for record in records
        for a in record.affected
    ]
    if new_ranges:
        session.execute(insert(AffectedRow), new_ranges)
    session.flush()
    touched = {aliases[r.identifiers[0]] for r in records}
    return SaveReport(created, updated, frozenset(touched))


def _apply(row: VulnerabilityRow, record: VulnRecord) -> None:
    """Take from the record what it knows; KEV text never overwrites an advisory's."""
    if record.summary and (not row.summary or record.source != "kev"):
        row.summary = record.summary[:500]
    if record.details and (not row.details or record.source != "kev"):
        row.details = record.details
    for cvss in record.cvss:
        if cvss.version.startswith("3"):
            row.cvss_v3_vector, row.cvss_v3_score = cvss.vector[:200], cvss.score
        elif cvss.version == "4.0":
            row.cvss_v4_vector, row.cvss_v4_score = cvss.vector[:300], cvss.score
    if record.severity:
        row.severity = record.severity
    row.published = row.published or record.published
    if record.modified and (row.modified is None or record.modified > row.modified):
        row.modified = record.modified
    if record.kev is not None:
        row.kev_date_added = record.kev.date_added
        row.kev_due_date = record.kev.due_date
        row.kev_ransomware = record.kev.ransomware
        row.kev_required_action = record.kev.required_action
        row.kev_product = f"{record.kev.vendor} {record.kev.product}".strip()[:300]
    if record.references:
        row.references = list(dict.fromkeys([*(row.references or []), *record.references]))


def save_epss(session: Session, scores: Sequence[EpssScore]) -> int:
    """Upsert EPSS scores by CVE; return how many were written."""
    if not scores:
        return 0
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(scores), 5000):
        rows = [
            {
                "cve": s.cve,
                "probability": s.probability,
                "percentile": s.percentile,
                "score_date": s.score_date,
            }
            for s in scores[start : start + 5000]
        ]
        stmt = upsert(EpssRow).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["cve"],
            set_={
                "probability": stmt.excluded.probability,
                "percentile": stmt.excluded.percentile,
                "score_date": stmt.excluded.score_date,
            },
        )
        session.execute(stmt)
    return len(scores)


@dataclass(frozen=True)
class Vulnerability:
    """A vulnerability as Bastion knows it, all sources merged."""

    key: str
    aliases: tuple[str, ...]
    summary: str
    severity: str | None
    cvss_v3_vector: str | None
    cvss_v3_score: float | None
    cvss_v4_vector: str | None
    cvss_v4_score: float | None
    published: datetime | None
    kev: bool
    kev_due_date: date | None
    kev_ransomware: bool | None
    epss_probability: float | None
    epss_percentile: float | None
    sources: tuple[str, ...]
    ranges: tuple[str, ...] = ()


def _to_domain(session: Session, row: VulnerabilityRow, *, ranges: bool = False) -> Vulnerability:
    aliases = tuple(
        sorted(session.scalars(select(AliasRow.alias).where(AliasRow.vuln_id == row.id)))
    )
    epss = session.get(EpssRow, row.key)
    texts: tuple[str, ...] = ()
    if ranges:
        texts = tuple(
            f"{e}/{p} {t} ({s})"
            for e, p, t, s in session.execute(
                select(
                    AffectedRow.ecosystem,
                    AffectedRow.package,
                    AffectedRow.range_text,
                    AffectedRow.source,
                )
                .where(AffectedRow.vuln_id == row.id)
                .order_by(AffectedRow.id)
            )
        )
    return from_row(
        Vulnerability,
        row,
        aliases=aliases,
        kev=row.kev_date_added is not None or row.kev_due_date is not None,
        epss_probability=epss.probability if epss else None,
        epss_percentile=epss.percentile if epss else None,
        sources=tuple(row.sources),
        ranges=texts,
    )


def vuln_id_of(session: Session, identifier: str) -> int:
    """Return the row id of the vulnerability known by ``identifier`` (any alias)."""
    found = session.scalar(
        select(AliasRow.vuln_id).where(AliasRow.alias == identifier.strip().upper())
    )
    if found is None:
        found = session.scalar(select(AliasRow.vuln_id).where(AliasRow.alias == identifier.strip()))
    return must_exist(
        found,
        f"no vulnerability known as {identifier!r}; import its record first (`bastion advisories import`)",
    )


def get_vulnerability(session: Session, identifier: str) -> Vulnerability:
    """Return the vulnerability known by ``identifier`` with its ranges."""
    row = session.get(VulnerabilityRow, vuln_id_of(session, identifier))
    assert row is not None
    return _to_domain(session, row, ranges=True)


def list_vulnerabilities(
    session: Session, *, kev_only: bool = False, search: str | None = None, limit: int = 50
) -> list[Vulnerability]:
    """Return vulnerabilities, newest KEV additions and then keys first."""
    query = select(VulnerabilityRow)
    if kev_only:
        query = query.where(VulnerabilityRow.kev_due_date.is_not(None))
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            VulnerabilityRow.key.ilike(pattern) | VulnerabilityRow.summary.ilike(pattern)
        )
    query = query.order_by(VulnerabilityRow.key.desc()).limit(limit)
    return [_to_domain(session, row) for row in session.scalars(query)]


def aliases_of(session: Session, vuln_ids: Iterable[int]) -> dict[int, set[str]]:
    """Map vulnerability ids to every identifier they are known by."""
    out: dict[int, set[str]] = {}
    ids = list(vuln_ids)
    for start in range(0, len(ids), _CHUNK):
        for alias, vid in session.execute(
            select(AliasRow.alias, AliasRow.vuln_id).where(
                AliasRow.vuln_id.in_(ids[start : start + _CHUNK])
            )
        ):
            out.setdefault(vid, set()).add(alias)
    return out
