"""Value types shared by every context."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NewType

from bastion.core.errors import InputError

OrgCode = NewType("OrgCode", str)

# ODS codes: 3 to 6 characters, letters and digits (R0A, Y62, A81001, QOP, E54000027 for ONS).
_ORG_CODE = re.compile(r"^[A-Z0-9]{2,10}$")


def must_match(
    pattern: re.Pattern[str], text: str, what: str, given: str, expected: str = ""
) -> str:
    """Return ``text`` when ``pattern`` matches all of it; else raise InputError.

    The error reads ``invalid <what> <given!r>: <expected>``, ``given`` being the
    value as it was typed, before ``text`` was normalised from it.
    """
    if pattern.fullmatch(text):
        return text
    msg = f"invalid {what} {given!r}: {expected}" if expected else f"invalid {what} {given!r}"
    raise InputError(msg)


def org_code(value: str) -> OrgCode:
    """Return ``value`` as a normalised ODS-style organisation code, or raise InputError."""
    expected = "expected 2-10 letters or digits, like R0A or A81001"
    return OrgCode(
        must_match(_ORG_CODE, value.strip().upper(), "organisation code", value, expected)
    )


class Severity(StrEnum):
    """How bad something is, in ascending order."""

    INFORMATIONAL = "informational"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 marking."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"
