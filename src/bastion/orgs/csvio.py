"""Import and export the federation as CSV: Bastion's own format and the published DSPT snapshots.

An import is all or nothing: every row is checked first, and the first bad row
stops the import with its file, line and field before anything is written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.errors import BastionError, FormatError, InputError, Location
from bastion.core.registry import Registry
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
from bastion.orgs.service import _save, organisation_ids

BASTION_COLUMNS = ("code", "name", "type", "parent", "networks", "hosts", "contacts")

# NHS England regions, as the DSPT snapshots name them by their ODS "national grouping" code.
NHS_REGIONS = {
    "Y56": "NHS England London",
    "Y58": "NHS England South West",
    "Y59": "NHS England South East",
    "Y60": "NHS England Midlands",
    "Y61": "NHS England East of England",
    "Y62": "NHS England North West",
    "Y63": "NHS England North East and Yorkshire",
}


@dataclass(frozen=True)
class ParsedRow:
    line: int
    org: Organisation


@dataclass(frozen=True)
class ImportReport:
    format: str
    created: int
    updated: int
    by_type: dict[str, int]


T = TypeVar("T")

RowReader = Callable[[list[dict[str, str]], str], list[ParsedRow]]


def _field(row: dict[str, str], name: str, where: Location, *, required: bool = True) -> str:
    value = (row.get(name) or "").strip()
    if required and not value:
        msg = f"{name} is empty"
        raise InputError(msg, where)
    return value


def _checked(where: Location, parse: Callable[[str], T], value: str) -> T:
    try:
        return parse(value)
    except InputError as exc:
        raise InputError(exc.reason, where) from None


_CONTACT = re.compile(r"^\s*(?P<name>[^<]*?)\s*<(?P<email>[^>]+)>\s*(?:\((?P<role>[^)]*)\))?\s*$")


def _contacts(text: str, where: Location) -> tuple[Contact, ...]:
    contacts = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = _CONTACT.fullmatch(part)
        if not match:
            msg = f"contact {part!r} is not 'Name <email> (role)'"
            raise InputError(msg, where)
        email = _checked(where, parse_email, match["email"])
        contacts.append(Contact(match["name"] or email, email, match["role"] or "security lead"))
    return tuple(contacts)


def _read_bastion(rows: list[dict[str, str]], path: str) -> list[ParsedRow]:
    parsed = []
    for line, row in enumerate(rows, start=2):
        at = partial(Location, path, line)
        code = _checked(at("code"), org_code, _field(row, "code", at("code")))
        parent = _field(row, "parent", at("parent"), required=False)
        org = Organisation(
            code=code,
            name=_field(row, "name", at("name")),
            type=_checked(at("type"), OrgType.parse, _field(row, "type", at("type"))),
            parent=_checked(at("parent"), org_code, parent) if parent else None,
            networks=tuple(
                _checked(at("networks"), parse_cidr, c)
                for c in _field(row, "networks", at("networks"), required=False).split()
            ),
            hosts=tuple(
                Host(_checked(at("hosts"), parse_hostname, h))
                for h in _field(row, "hosts", at("hosts"), required=False).split()
            ),
            contacts=_contacts(
                _field(row, "contacts", at("contacts"), required=False), at("contacts")
            ),
        )
        parsed.append(ParsedRow(line, org))
    return parsed


def _dspt_name(name: str, code: str) -> str:
    return re.sub(rf"\s*\({re.escape(code)}\)\s*$", "", name.strip())


def _read_dspt_trusts(rows: list[dict[str, str]], path: str) -> list[ParsedRow]:
    """Read the published DSPT trusts snapshot: trusts, their ICBs and NHS England regions."""
    icb_column = "Integrated Care Board (where available, from ODS)"
    parents: dict[str, ParsedRow] = {}
    trusts = []
    for line, row in enumerate(rows, start=2):
        at = partial(Location, path, line)
        code = _checked(at("Code"), org_code, _field(row, "Code", at("Code")))
        region = _checked(
            at("National Grouping"),
            org_code,
            _field(row, "National Grouping", at("National Grouping")),
        )
        icb = _checked(
            at("High Level Health Geography"),
            org_code,
            _field(row, "High Level Health Geography", at("High Level Health Geography")),
        )
        parents.setdefault(
            region,
            ParsedRow(
                line,
                Organisation(
                    region, NHS_REGIONS.get(region, f"NHS England region {region}"), OrgType.REGION
                ),
            ),
        )
        icb_name = (
            _field(row, icb_column, at(icb_column), required=False)
            or f"Integrated care board {icb}"
        )
        parents.setdefault(
            icb, ParsedRow(line, Organisation(icb, icb_name, OrgType.ICB, parent=region))
        )
        name = _dspt_name(_field(row, "Organisation Name", at("Organisation Name")), code)
        trusts.append(ParsedRow(line, Organisation(code, name, OrgType.TRUST, parent=icb)))
    return [*parents.values(), *trusts]


def _read_dspt_icbs(rows: list[dict[str, str]], path: str) -> list[ParsedRow]:
    """Read the published DSPT ICB snapshot: one integrated care board a row."""
    parsed = []
    for line, row in enumerate(rows, start=2):
        at = partial(Location, path, line)
        code = _checked(at("Code"), org_code, _field(row, "Code", at("Code")))
        name = _field(row, "ICB23NM", at("ICB23NM"), required=False) or _field(
            row, "Organisation Name", at("Organisation Name")
        )
        parsed.append(ParsedRow(line, Organisation(code, name, OrgType.ICB)))
    return parsed


FORMATS: Registry[RowReader] = Registry(
    "format",
    (
        ("bastion", _read_bastion),
        ("dspt-icb", _read_dspt_icbs),
        ("dspt-trusts", _read_dspt_trusts),
    ),
)
"""Every CSV dialect of organisations by name: what ``--format`` names."""


def detect_format(header: Iterable[str]) -> str:
    """Name the CSV dialect from its header row, or raise FormatError."""
    columns = {c.strip() for c in header}
    if {"Code", "High Level Health Geography", "Organisation Name"} <= columns:
        return "dspt-trusts"
    if {"Code", "ICB23CDH", "Organisation Name"} <= columns:
        return "dspt-icb"
    if {"code", "name", "type"} <= columns:
        return "bastion"
    msg = (
        "unrecognised organisations CSV: expected Bastion's columns "
        f"({', '.join(BASTION_COLUMNS)}) or a DSPT snapshot"
    )
    raise FormatError(msg)


def read_organisations(text: str, path: str, fmt: str | None = None) -> tuple[str, list[ParsedRow]]:
    """Parse CSV text into organisations; raise InputError at the first bad row."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames
        rows = list(reader)
    except csv.Error as exc:
        msg = f"malformed CSV: {exc}"
        raise FormatError(msg, Location(path, reader.line_num)) from None
    if not header:
        msg = "file is empty"
        raise FormatError(msg, Location(path, 1))
    try:
        name = fmt or detect_format(header)
    except FormatError as exc:
        raise FormatError(exc.reason, Location(path, 1)) from None
    parsed = FORMATS.get(name)(rows, path)
    seen: dict[str, int] = {}
    for item in parsed:
        if item.org.code in seen:
            msg = (
                f"duplicate organisation code {item.org.code} (first on line {seen[item.org.code]})"
            )
            raise InputError(
                msg,
                Location(path, item.line, "code"),
            )
        seen[item.org.code] = item.line
    return name, parsed


def _parents_first(rows: list[ParsedRow], path: str) -> list[ParsedRow]:
    by_code = {r.org.code: r for r in rows}
    ordered: list[ParsedRow] = []
    state: dict[str, int] = {}

    def visit(row: ParsedRow) -> None:
        code = row.org.code
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            msg = f"organisation {code} is its own ancestor"
            raise InputError(msg, Location(path, row.line, "parent"))
        state[code] = 1
        if row.org.parent in by_code:
            visit(by_code[row.org.parent])
        state[code] = 2
        ordered.append(row)

    for row in rows:
        visit(row)
    return ordered


def import_organisations(
    session: Session, path: Path, fmt: str | None = None, *, actor: Actor
) -> ImportReport:
    """Import organisations from a CSV file, all or nothing, in the caller's transaction.

    The import is one change in the audit trail (``organisation.import`` of the file).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read file: {exc}"
        raise InputError(msg, Location(str(path))) from None
    name, rows = read_organisations(text, str(path), fmt)
    existing = organisation_ids(session)
    known = set(existing) | {r.org.code for r in rows}
    for row in rows:
        if row.org.parent and row.org.parent not in known:
            msg = f"parent {row.org.parent} is neither in the file nor in the federation"
            raise InputError(
                msg,
                Location(str(path), row.line, "parent"),
            )
    by_type: dict[str, int] = {}
    created = updated = 0
    for row in _parents_first(rows, str(path)):
        try:
            _save(session, row.org)
        except BastionError as exc:
            raise InputError(str(exc), Location(str(path), row.line)) from None
        if row.org.code in existing:
            updated += 1
        else:
            created += 1
        by_type[row.org.type.value] = by_type.get(row.org.type.value, 0) + 1
    audit.record(
        session,
        actor,
        "organisation.import",
        f"file:{path.name}",
        after={"format": name, "created": created, "updated": updated, "by_type": by_type},
    )
    return ImportReport(name, created, updated, by_type)


def export_organisations(orgs: Iterable[Organisation]) -> str:
    """Write organisations as Bastion CSV, which ``import_organisations`` reads back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BASTION_COLUMNS)
    for org in orgs:
        writer.writerow(
            [
                org.code,
                org.name,
                org.type.value,
                org.parent or "",
                " ".join(org.networks),
                " ".join(h.hostname for h in org.hosts),
                "; ".join(f"{c.name} <{c.email}> ({c.role})" for c in org.contacts),
            ]
        )
    return out.getvalue()
