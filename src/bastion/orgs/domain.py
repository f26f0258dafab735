"""The federation's value objects and their validation."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from bastion.core.choices import Choice
from bastion.core.errors import InputError
from bastion.core.types import must_match


class OrgType(Choice, what="organisation type"):
    """The kinds of organisation in the federation."""

    REGION = "region"
    ICB = "icb"
    TRUST = "trust"
    GP_PRACTICE = "gp_practice"
    CARE_PROVIDER = "care_provider"
    SUPPLIER = "supplier"
    ARMS_LENGTH_BODY = "arms_length_body"
    OTHER = "other"

    @classmethod
    def _missing_(cls, value: object) -> OrgType | None:
        """Read the usual synonyms: ``integrated care board``, ``NHS trust``, ``GP``, ``ALB``."""
        synonyms = {
            "integrated_care_board": cls.ICB,
            "nhs_trust": cls.TRUST,
            "gp": cls.GP_PRACTICE,
            "alb": cls.ARMS_LENGTH_BODY,
        }
        return synonyms.get(str(value))


def parse_cidr(value: str) -> str:
    """Return ``value`` as a canonical IPv4 or IPv6 network, or raise InputError."""
    text = value.strip()
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        msg = f"invalid CIDR {value!r}: {exc}"
        raise InputError(msg) from None
    return str(network)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_email(value: str) -> str:
    """Return ``value`` as a lower-cased e-mail address, or raise InputError."""
    return must_match(_EMAIL, value.strip().lower(), "e-mail address", value)


_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
)


def parse_hostname(value: str) -> str:
    """Return ``value`` as a lower-cased host name or IP address, or raise InputError."""
    text = value.strip().lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    return must_match(_HOSTNAME, text, "host name", value)


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    role: str = "security lead"


@dataclass(frozen=True)
class Host:
    hostname: str
    address: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Organisation:
    """An organisation of the federation, with what it has registered."""

    code: str
    name: str
    type: OrgType
    parent: str | None = None
    networks: tuple[str, ...] = ()
    contacts: tuple[Contact, ...] = ()
    hosts: tuple[Host, ...] = ()
    children: int = field(default=0, compare=False)
