"""The built-in behaviour checks as rules: listed, enabled, disabled and tuned like Sigma rules.

``boundary.behaviour`` runs the checks; this module names them (``builtin:port-scan``
…), describes them for ``bastion rules list``, the catalogue and the console, and
drops the candidates of a check switched off, for everyone or for one organisation,
with the same ``Tuning`` (the ``detect_rule_settings`` table) as the Sigma rules.

A check that counts something alerts at a ``Threshold`` (``ports``, ``bytes``): its
national default is written here, and ``CheckThresholds`` holds the values set for
everyone or for one organisation (the ``detect_rule_thresholds`` table), which
``boundary.behaviour`` joins onto each organisation's candidates as a column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from bastion.core.errors import InputError, Location

BUILTIN_PREFIX = "builtin:"
LIMIT_COLUMN = "_limit"  # an organisation's own threshold, joined onto its candidates


@dataclass(frozen=True)
class Threshold:
    """A number a built-in check alerts at, its national default and the range it may take."""

    name: str
    unit: str
    description: str
    default: int
    minimum: int
    maximum: int

    def validate(self, check_id: str, value: int) -> int:
        """Return ``value``, or raise InputError (field ``value``) when it is out of range."""
        if not self.minimum <= value <= self.maximum:
            msg = (
                f"{check_id} threshold {self.name} must be from {self.minimum:,} to "
                f"{self.maximum:,} {self.unit}, not {value:,}"
            )
            raise InputError(msg, Location(field="value"))
        return value


@dataclass(frozen=True)
class BuiltinCheck:
    """One built-in check: its rule id, what it alerts as and what it looks for."""

    id: str
    title: str
    level: str
    description: str
    tags: tuple[str, ...]
    fields: tuple[str, ...]
    thresholds: tuple[Threshold, ...] = ()


PORTS = Threshold(
    "ports",
    "distinct ports",
    "distinct destination ports of one member host one outside source probes within a batch",
    default=50,
    minimum=2,
    maximum=65_536,
)
BYTES = Threshold(
    "bytes",
    "bytes",
    "bytes one member host sends to one outside address within a batch",
    default=1 << 30,
    minimum=1 << 20,  # 1 MiB: below it, ordinary uploads would flood the queue
    maximum=1 << 50,
)

BUILTIN_CHECKS = (
    BuiltinCheck(
        "builtin:log4shell-probe",
        "Log4Shell (CVE-2021-44228) exploit attempt",
        "high",
        "A request carrying a JNDI lookup (${jndi:…} and its obfuscations) in the URL or "
        "the User-Agent.",
        ("attack.initial-access", "attack.t1190", "cve.2021-44228"),
        ("url.full", "user_agent.original"),
    ),
    BuiltinCheck(
        "builtin:port-scan",
        "Port scan of a member host",
        "medium",
        "One outside source probing at least its ports threshold of distinct destination "
        "ports (50 unless tuned) of one member host within a batch.",
        ("attack.discovery", "attack.t1046"),
        ("source.ip", "destination.ip", "destination.port"),
        (PORTS,),
    ),
    BuiltinCheck(
        "builtin:exfiltration",
        "Large upload to one outside address",
        "high",
        "One member host sending at least its bytes threshold (1 GiB unless tuned) to one "
        "outside address within a batch.",
        ("attack.exfiltration", "attack.t1048"),
        ("source.ip", "destination.ip", "source.bytes"),
        (BYTES,),
    ),
)
BUILTIN_IDS = frozenset(c.id for c in BUILTIN_CHECKS)
_BY_ID = {c.id: c for c in BUILTIN_CHECKS}


def check_threshold(check_id: str, name: str) -> Threshold:
    """Return the threshold ``name`` of a built-in check; InputError says which there are."""
    check = _BY_ID.get(check_id)
    if check is None or not check.thresholds:
        tunable = ", ".join(c.id for c in BUILTIN_CHECKS if c.thresholds)
        msg = f"rule {check_id!r} has no threshold to tune; the built-in checks that do: {tunable}"
        raise InputError(msg, Location(field="rule_id"))
    for threshold in check.thresholds:
        if threshold.name == name:
            return threshold
    names = ", ".join(t.name for t in check.thresholds)
    msg = f"{check_id} has no threshold {name!r}; it has: {names}"
    raise InputError(msg, Location(field="name"))


@dataclass(frozen=True)
class CheckThresholds:
    """The built-in checks' thresholds in force: the defaults, as set nationally and per organisation.

    ``national`` maps (check id, threshold name) to a value set for every organisation,
    ``per_org`` (check id, threshold name, organisation code) to an organisation's own;
    a threshold set nowhere is its default.
    """

    national: Mapping[tuple[str, str], int] = field(default_factory=dict)
    per_org: Mapping[tuple[str, str, str], int] = field(default_factory=dict)

    def value(self, check_id: str, name: str, org: str | None = None) -> int:
        """Return the threshold ``org`` (None: every organisation without its own) alerts at."""
        if org is not None and (own := self.per_org.get((check_id, name, org))) is not None:
            return own
        default = check_threshold(check_id, name).default
        return self.national.get((check_id, name), default)

    def own(self, check_id: str, name: str) -> dict[str, int]:
        """Return the organisations that set the threshold themselves, with their values."""
        return {o: v for (c, n, o), v in self.per_org.items() if (c, n) == (check_id, name)}

    def limits(self, check_id: str, name: str) -> Limits:
        """Return the national value, the organisations' own, and the lowest of them."""
        own = self.own(check_id, name)
        national = self.value(check_id, name)
        frame = pl.DataFrame(
            {"organization.id": list(own), LIMIT_COLUMN: list(own.values())},
            schema={"organization.id": pl.String(), LIMIT_COLUMN: pl.Int64()},
        )
        return Limits(national, min([national, *own.values()]), frame)


@dataclass(frozen=True)
class Limits:
    """One threshold as a check applies it: nationally, and per organisation as a frame."""

    national: int
    lowest: int  # the lowest value in force anywhere: rows below it cannot alert
    own: pl.DataFrame  # organization.id, _limit: the organisations with their own value


def builtin_rule_id(key: str) -> str | None:
    """Return the built-in check an alert key belongs to (``builtin:port-scan:1.2.3.4``)."""
    return next((i for i in BUILTIN_IDS if key == i or key.startswith(f"{i}:")), None)


def drop_disabled_checks(
    candidates: pl.DataFrame,
    disabled: frozenset[str],
    disabled_for: frozenset[tuple[str, str]],
) -> pl.DataFrame:
    """Drop the candidates of checks switched off for everyone or for their organisation."""
    off = disabled & BUILTIN_IDS
    off_for = [(r, o) for r, o in disabled_for if r in BUILTIN_IDS]
    if candidates.is_empty() or not (off or off_for):
        return candidates
    rule = pl.col("key").str.extract(r"^(builtin:[a-z0-9-]+)", 1)
    kept = candidates.with_columns(rule.alias("_rule")).filter(~pl.col("_rule").is_in(sorted(off)))
    if off_for:
        pairs = pl.DataFrame(
            off_for, schema={"_rule": pl.String(), "organization.id": pl.String()}, orient="row"
        )
        kept = kept.join(pairs, on=["_rule", "organization.id"], how="anti")
    return kept.drop("_rule")
