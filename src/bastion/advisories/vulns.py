"""Vulnerability records: what an advisory source says, in one shape whatever the source."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from cvss import CVSS3, CVSS4  # type: ignore[import-untyped]  # the library ships no types

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


def is_cve(identifier: str) -> bool:
    return bool(_CVE.fullmatch(identifier))


@dataclass(frozen=True)
class AffectedRange:
    """One interval of affected versions of one package (or a whole product).

    ``lo``/``hi`` None mean unbounded; ``precision`` is ``version`` when the bounds
    decide, ``product`` when the source names the product but no versions (KEV).
    """

    ecosystem: str
    package: str
    lo: str | None = None
    lo_incl: bool = True
    hi: str | None = None
    hi_incl: bool = False
    precision: str = "version"

    @property
    def text(self) -> str:
        """Describe the interval as a reader would write it: ``>=2.13.0, <2.15.0``."""
        if self.precision == "product":
            return "all versions (product listed, no versions given)"
        if self.lo is not None and self.lo == self.hi and self.lo_incl and self.hi_incl:
            return f"={self.lo}"
        parts = []
        if self.lo is not None:
            parts.append(f"{'>=' if self.lo_incl else '>'}{self.lo}")
        if self.hi is not None:
            parts.append(f"{'<=' if self.hi_incl else '<'}{self.hi}")
        return ", ".join(parts) or "all versions"


@dataclass(frozen=True)
class Kev:
    """What the CISA Known Exploited Vulnerabilities catalogue says of a CVE."""

    vendor: str
    product: str
    name: str
    date_added: date | None
    due_date: date | None
    ransomware: bool | None  # None: "Unknown"
    required_action: str = ""


@dataclass(frozen=True)
class Cvss:
    """A CVSS vector with the base score and severity computed from it."""

    version: str  # "3.1", "3.0" or "4.0"
    vector: str
    score: float | None
    severity: str | None


def score_cvss(vector: str) -> Cvss:
    """Compute the base score and severity of a CVSS 3.x or 4.0 vector.

    A vector the ``cvss`` library rejects is kept with no score rather than failing
    the whole record.
    """
    text = vector.strip()
    try:
        if text.startswith("CVSS:4.0/"):
            v4 = CVSS4(text)
            return Cvss("4.0", v4.clean_vector(), float(v4.base_score), str(v4.severity).lower())
        if text.startswith("CVSS:3."):
            v3 = CVSS3(text)
            return Cvss(
                text[5:8],
                v3.clean_vector(),
                float(v3.base_score),
                str(v3.severities()[0]).lower(),
            )
    except Exception:  # the cvss library raises its own errors for bad metrics
        return Cvss(text[5:8] if text.startswith("CVSS:") else "?", text, None, None)
    return Cvss("?", text, None, None)


@dataclass(frozen=True)
class VulnRecord:
    """One source's record of one vulnerability, with the ranges it says are affected."""

    id: str
    source: str  # the format: osv, cve5, kev, vex
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    published: datetime | None = None
    modified: datetime | None = None
    cvss: tuple[Cvss, ...] = ()
    severity: str | None = None
    affected: tuple[AffectedRange, ...] = ()
    kev: Kev | None = None
    references: tuple[str, ...] = ()

    @property
    def identifiers(self) -> tuple[str, ...]:
        """The record's id and aliases, CVEs first (a CVE names the vulnerability)."""
        every = dict.fromkeys([self.id, *self.aliases])
        return tuple(sorted(every, key=lambda i: (not is_cve(i), i)))

    @property
    def key(self) -> str:
        return self.identifiers[0]


@dataclass(frozen=True)
class EpssScore:
    cve: str
    probability: float
    percentile: float
    score_date: date | None


@dataclass
class ImportResult:
    """What one file held: records, EPSS scores, and what was skipped and why."""

    format: str
    records: list[VulnRecord] = field(default_factory=list)
    epss: list[EpssScore] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
