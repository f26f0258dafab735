"""The federation's public operations: every other context goes through these."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload

from bastion import audit
from bastion.audit import Actor
from bastion.core.errors import ConflictError, NotFoundError
from bastion.core.records import must_exist
from bastion.core.types import org_code
from bastion.orgs.domain import (
    Contact,
    Host,
    Organisation,
    OrgType,
    parse_cidr,
    parse_email,
    parse_hostname,
)
from bastion.orgs.models import ContactRow, HostRow, NetworkRow, OrganisationRow
from bastion.store.membership import one_of
from bastion.store.paging import contains_text, page_of


def _to_domain(row: OrganisationRow) -> Organisation:
    return Organisation(
        code=row.code,
        name=row.name,
        type=OrgType(row.type),
        parent=row.parent.code if row.parent else None,
        networks=tuple(n.cidr for n in row.networks),
        contacts=tuple(Contact(c.name, c.email, c.role) for c in row.contacts),
        hosts=tuple(Host(h.hostname, h.address, h.description) for h in row.hosts),
    )


def _row(session: Session, code: str) -> OrganisationRow:
    row = session.scalar(select(OrganisationRow).where(OrganisationRow.code == org_code(code)))
    return must_exist(row, f"no organisation with code {code!r}")


def organisation_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Map organisation codes to their names (codes with no organisation are left out)."""
    wanted = list(dict.fromkeys(codes))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(OrganisationRow.code, OrganisationRow.name).where(
            OrganisationRow.code.in_(chunk)
        )
        found.update((code, name) for code, name in session.execute(query))
    return found


def organisation_ids(session: Session, codes: Iterable[str] | None = None) -> dict[str, int]:
    """Map organisation codes to their row ids (all organisations when ``codes`` is None)."""
    query = select(OrganisationRow.code, OrganisationRow.id)
    if codes is not None:
        query = query.where(one_of(OrganisationRow.code, codes))
    return dict(session.execute(query).all())


def top_ancestors(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Map organisation codes to the top of their chain of parents (a region, in England's
    federation); one with no parent, or not in the federation, maps to itself.

    Reads a level of parents a query, only of the codes asked about and their
    ancestors (never the whole federation's rows).
    """
    child, above = OrganisationRow, aliased(OrganisationRow)
    parents: dict[str, str | None] = {}
    top = {code: code for code in dict.fromkeys(codes)}
    while pending := sorted({at for at in top.values() if at not in parents}):
        for start in range(0, len(pending), 500):
            query = (
                select(child.code, above.code)
                .outerjoin(above, child.parent_id == above.id)
                .where(child.code.in_(pending[start : start + 500]))
            )
            parents.update((code, up) for code, up in session.execute(query))
        parents.update((code, None) for code in pending if code not in parents)
        for code, at in top.items():
            seen = set()
            while (up := parents.get(at)) is not None and at not in seen:
                seen.add(at)  # a cycle of parents stops where it comes round
                at = up
            top[code] = at
    return top


def _view(org: Organisation) -> dict[str, Any]:
    """Return what the audit trail keeps of an organisation."""
    return {k: v for k, v in dataclasses.asdict(org).items() if k != "children"}


def save_organisation(
    session: Session, org: Organisation, *, actor: Actor, create_only: bool = False
) -> None:
    """Create ``org`` or replace what is stored under its code, networks and all; audited.

    Raise ConflictError when ``create_only`` and the code exists, or when one of its
    networks belongs to another organisation; NotFoundError for an unknown parent.
    """
    code = org_code(org.code)
    exists = session.scalar(select(OrganisationRow.id).where(OrganisationRow.code == code))
    before = _view(_to_domain(_row(session, code))) if exists is not None else None
    _save(session, org, create_only=create_only)
    audit.record(
        session,
        actor,
        "organisation.update" if before else "organisation.create",
        f"organisation:{code}",
        org=code,
        before=before,
        after=_view(_to_domain(_row(session, code))),
    )


def save_organisations(
    session: Session, organisations: Sequence[Organisation], *, actor: Actor, source: str
) -> tuple[int, int]:
    """Save many organisations, in the order given (parents first); return (created, updated).

    The whole load is one change in the audit trail (``organisation.import`` of
    ``source``), however many organisations it holds.
    """
    existing = organisation_ids(session, [org_code(o.code) for o in organisations])
    for org in organisations:
        _save(session, org)
    created = sum(1 for o in organisations if org_code(o.code) not in existing)
    updated = len(organisations) - created
    audit.record(
        session,
        actor,
        "organisation.import",
        f"import:{source}",
        after={"created": created, "updated": updated},
    )
    return created, updated


def _save(session: Session, org: Organisation, *, create_only: bool = False) -> None:
    code = org_code(org.code)
    row = session.scalar(select(OrganisationRow).where(OrganisationRow.code == code))
    if row is not None and create_only:
        msg = f"organisation {code} already exists"
        raise ConflictError(msg)
    parent_id = None
    if org.parent:
        if org_code(org.parent) == code:
            msg = f"organisation {code} cannot be its own parent"
            raise ConflictError(msg)
        parent_id = _row(session, org.parent).id
    if row is None:
        row = OrganisationRow(code=code)
        session.add(row)
    row.name = org.name.strip()
    row.type = OrgType(org.type).value
    row.parent_id = parent_id
    cidrs = sorted({parse_cidr(c) for c in org.networks})
    if cidrs:
        owners = session.execute(
            select(NetworkRow.cidr, OrganisationRow.code)
            .join(OrganisationRow)
            .where(NetworkRow.cidr.in_(cidrs), OrganisationRow.code != code)
        ).all()
        if owners:
            cidr, owner = owners[0]
            msg = f"network {cidr} is already registered to {owner}"
            raise ConflictError(msg)
    # Reconcile rather than replace: a delete and re-insert of the same CIDR in one
    # flush would trip the unique constraint (inserts are flushed before deletes).
    kept_networks = {n.cidr: n for n in row.networks if n.cidr in cidrs}
    row.networks = [kept_networks.get(c) or NetworkRow(cidr=c) for c in cidrs]
    row.contacts = [
        ContactRow(name=c.name.strip(), email=parse_email(c.email), role=c.role)
        for c in org.contacts
    ]
    wanted_hosts = {parse_hostname(h.hostname): h for h in org.hosts}
    kept_hosts = {h.hostname: h for h in row.hosts if h.hostname in wanted_hosts}
    row.hosts = []
    for name, host in wanted_hosts.items():
        host_row = kept_hosts.get(name) or HostRow(hostname=name)
        host_row.address, host_row.description = host.address, host.description
        row.hosts.append(host_row)
    session.flush()


def get_organisation(session: Session, code: str) -> Organisation:
    """Return the organisation with ``code``, or raise NotFoundError."""
    row = _row(session, code)
    org = _to_domain(row)
    children = session.scalar(
        select(func.count()).select_from(OrganisationRow).where(OrganisationRow.parent_id == row.id)
    )
    return Organisation(**{**org.__dict__, "children": children or 0})


@dataclasses.dataclass(frozen=True)
class OrganisationNames:
    """What names an organisation: its code and name, its parent's name, its hosts' names."""

    code: str
    name: str
    parent_name: str | None
    hostnames: tuple[str, ...]


def organisation_names_of(session: Session, code: str) -> OrganisationNames:
    """Return the names of the organisation with ``code`` (NotFoundError if none).

    Two small queries (the organisation with its parent's name, then its host names),
    not the whole organisation: a password check reads these on every call, and an
    organisation may have thousands of networks.
    """
    parent = aliased(OrganisationRow)
    found = session.execute(
        select(OrganisationRow.id, OrganisationRow.code, OrganisationRow.name, parent.name)
        .outerjoin(parent, OrganisationRow.parent_id == parent.id)
        .where(OrganisationRow.code == org_code(code))
    ).one_or_none()
    row = must_exist(found, f"no organisation with code {code!r}")
    hosts = session.scalars(
        select(HostRow.hostname).where(HostRow.organisation_id == row[0]).order_by(HostRow.hostname)
    )
    return OrganisationNames(row[1], row[2], row[3], tuple(hosts))


def contact_emails(session: Session, code: str) -> tuple[str, ...]:
    """Return the e-mail addresses of ``code``'s contacts (none when it is not registered)."""
    try:
        return tuple(c.email for c in get_organisation(session, code).contacts)
    except NotFoundError:
        return ()


def list_organisations(
    session: Session,
    *,
    search: str | None = None,
    type: OrgType | None = None,
    parent: str | None = None,
    codes: Sequence[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Organisation], int]:
    """Return one page of organisations matching the filters, and how many match in all."""
    query = select(OrganisationRow)
    if search:
        query = query.where(contains_text(search, OrganisationRow.name, OrganisationRow.code))
    if type is not None:
        query = query.where(OrganisationRow.type == type.value)
    if parent is not None:
        query = query.where(OrganisationRow.parent_id == _row(session, parent).id)
    if codes is not None:
        query = query.where(one_of(OrganisationRow.code, codes))
    query = query.options(
        selectinload(OrganisationRow.networks),
        selectinload(OrganisationRow.contacts),
        selectinload(OrganisationRow.hosts),
    )
    rows, total = page_of(session, query, OrganisationRow.code, limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total


def add_network(
    session: Session, code: str, cidr: str, description: str = "", *, actor: Actor
) -> str:
    """Register ``cidr`` to the organisation (audited); return it in canonical form."""
    row = _row(session, code)
    canonical = parse_cidr(cidr)
    owner = session.scalar(
        select(OrganisationRow.code).join(NetworkRow).where(NetworkRow.cidr == canonical)
    )
    if owner is not None:
        msg = f"network {canonical} is already registered to {owner}"
        raise ConflictError(msg)
    before = sorted(n.cidr for n in row.networks)
    row.networks.append(NetworkRow(cidr=canonical, description=description))
    session.flush()
    audit.record(
        session,
        actor,
        "organisation.network_add",
        f"organisation:{row.code}",
        org=row.code,
        before={"networks": before},
        after={"networks": sorted([*before, canonical])},
    )
    return canonical


def add_contact(session: Session, code: str, contact: Contact, *, actor: Actor) -> None:
    """Add a contact to the organisation (audited)."""
    row = _row(session, code)
    added = ContactRow(
        name=contact.name.strip(), email=parse_email(contact.email), role=contact.role
    )
    row.contacts.append(added)
    session.flush()
    audit.record(
        session,
        actor,
        "organisation.contact_add",
        f"organisation:{row.code}",
        org=row.code,
        after={"name": added.name, "email": added.email, "role": added.role},
    )


def add_host(session: Session, code: str, host: Host, *, actor: Actor) -> None:
    """Register an internet-facing host of the organisation (audited)."""
    row = _row(session, code)
    name = parse_hostname(host.hostname)
    if any(h.hostname == name for h in row.hosts):
        msg = f"host {name} is already registered to {row.code}"
        raise ConflictError(msg)
    row.hosts.append(HostRow(hostname=name, address=host.address, description=host.description))
    session.flush()
    audit.record(
        session,
        actor,
        "organisation.host_add",
        f"organisation:{row.code}",
        org=row.code,
        after={"hostname": name, "address": host.address},
    )


def all_networks(session: Session) -> list[tuple[str, str]]:
    """Return every registered network as (cidr, organisation code)."""
    return [
        (cidr, code)
        for cidr, code in session.execute(
            select(NetworkRow.cidr, OrganisationRow.code)
            .join(OrganisationRow)
            .order_by(NetworkRow.cidr)
        )
    ]


def count_organisations(session: Session) -> int:
    """Return how many organisations the federation has."""
    return session.scalar(select(func.count()).select_from(OrganisationRow)) or 0
