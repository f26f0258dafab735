"""Value types shared by every context."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NewType

from bastion.core.errors import InputError

OrgCode = NewType("OrgCode", str)

# ODS codes: 3 to 6 characters, letters and digits (R0A, Y62, A81001, QOP, E54000027 for ONS).
_ORG_CODE = re.compile(r"^[A-Z0-9]{2,10}$")


def org_code(value: str) -> OrgCode:
    """Return ``value`` as a normalised ODS-style organisation code, or raise InputError."""
    code = value.strip().upper()
    if not _ORG_CODE.fullmatch(code):
        msg = f"invalid organisation code {value!r}: expected 2-10 letters or digits, like R0A or A81001"
        raise InputError(msg)
    return OrgCode(code)


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
