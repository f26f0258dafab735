"""The organisations API's request and response bodies.

Input is checked here with the federation's own parsers (``bastion.orgs``), so
a bad CIDR, code, type or e-mail address is a 422 that names its field before
anything reaches the store.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Annotated, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from bastion import orgs
from bastion.core.errors import InputError
from bastion.core.types import org_code

T = TypeVar("T")


def _checked(parse: Callable[[str], T]) -> Callable[[str], T]:
    """Wrap a Bastion parser so its InputError becomes a pydantic error with the same reason."""

    def check(value: str) -> T:
        try:
            return parse(value)
        except InputError as exc:
            kind, template = "invalid_value", "{reason}"
            raise PydanticCustomError(kind, template, {"reason": exc.reason}) from None

    return check


def _org_type(value: object) -> orgs.OrgType:
    if isinstance(value, orgs.OrgType):
        return value
    if not isinstance(value, str):
        kind, template = "invalid_type", "expected an organisation type as a string"
        raise PydanticCustomError(kind, template)
    return _checked(orgs.OrgType.parse)(value)


def _ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        kind, template = "invalid_value", "invalid IP address {value!r}"
        raise PydanticCustomError(kind, template, {"value": value}) from None


def _printable(value: str) -> str:
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        kind, template = "control_character", "must be one line of text without control characters"
        raise PydanticCustomError(kind, template)
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]
Role = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_printable)]
Description = Annotated[str, Field(max_length=200), AfterValidator(_printable)]
IpAddress = Annotated[str, Field(max_length=64), AfterValidator(_ip_address)]
Code = Annotated[
    str,
    Field(max_length=16, examples=["R0A"]),
    AfterValidator(_checked(org_code)),
]
Cidr = Annotated[str, Field(max_length=64), AfterValidator(_checked(orgs.parse_cidr))]
Email = Annotated[str, Field(max_length=254), AfterValidator(_checked(orgs.parse_email))]
Hostname = Annotated[str, Field(max_length=253), AfterValidator(_checked(orgs.parse_hostname))]
OrgTypeIn = Annotated[orgs.OrgType, BeforeValidator(_org_type)]


class _Input(BaseModel):
    # Unknown fields are refused: a typo ("network") must not be silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactIn(_Input):
    """A person to tell when something touches the organisation."""

    name: Name
    email: Email
    role: Role = "security lead"


class HostIn(_Input):
    """An internet-facing host of the organisation."""

    hostname: Hostname
    address: IpAddress | None = None
    description: Description = ""


class OrganisationIn(_Input):
    """A new organisation of the federation, with what it registers."""

    code: Code = Field(description="ODS-style code: 2-10 letters or digits, e.g. R0A or A81001")
    name: Name
    type: OrgTypeIn = Field(description="the kind of organisation")
    parent: Code | None = Field(default=None, description="code of the parent (an ICB or region)")
    networks: list[Cidr] = Field(default_factory=list, max_length=1000, description="CIDRs it owns")
    hosts: list[HostIn] = Field(default_factory=list, max_length=1000)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=200)

    @field_validator("parent")
    @classmethod
    def _not_own_parent(cls, parent: str | None, info: ValidationInfo) -> str | None:
        if parent is not None and parent == info.data.get("code"):
            kind, template = "own_parent", "an organisation cannot be its own parent"
            raise PydanticCustomError(kind, template)
        return parent

    def to_domain(self) -> orgs.Organisation:
        """Return the organisation as the federation's value object."""
        return orgs.Organisation(
            code=self.code,
            name=self.name,
            type=self.type,
            parent=self.parent,
            networks=tuple(self.networks),
            hosts=tuple(orgs.Host(h.hostname, h.address, h.description) for h in self.hosts),
            contacts=tuple(orgs.Contact(c.name, c.email, c.role) for c in self.contacts),
        )


class ContactOut(BaseModel):
    name: str
    email: str
    role: str


class HostOut(BaseModel):
    hostname: str
    address: str | None
    description: str


class OrganisationSummary(BaseModel):
    """An organisation as it appears in a list."""

    code: str
    name: str
    type: orgs.OrgType
    parent: str | None
    networks: list[str]

    @classmethod
    def of(cls, org: orgs.Organisation) -> Self:
        """Return the organisation's fields this model shows, read from its value object."""
        return cls.model_validate(org, from_attributes=True)


class OrganisationOut(OrganisationSummary):
    """One organisation with everything it has registered."""

    children: int = Field(description="how many organisations have this one as parent")
    contacts: list[ContactOut]
    hosts: list[HostOut]


class OrganisationPage(BaseModel):
    """One page of organisations, sorted by code, and how many match in all."""

    items: list[OrganisationSummary]
    total: int = Field(description="how many organisations match the filters")
    limit: int
    offset: int
