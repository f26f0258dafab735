"""The built-in behaviour checks as rules: listed, enabled and disabled like Sigma rules.

``boundary.behaviour`` runs the checks; this module names them (``builtin:port-scan``
…), describes them for ``bastion rules list``, the catalogue and the console, and
drops the candidates of a check switched off, for everyone or for one organisation,
with the same ``Tuning`` (the ``detect_rule_settings`` table) as the Sigma rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

BUILTIN_PREFIX = "builtin:"


@dataclass(frozen=True)
class BuiltinCheck:
    """One built-in check: its rule id, what it alerts as and what it looks for."""

    id: str
    title: str
    level: str
    description: str
    tags: tuple[str, ...]
    fields: tuple[str, ...]


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
        "One outside source probing at least 50 distinct destination ports of one member "
        "host within a batch.",
        ("attack.discovery", "attack.t1046"),
        ("source.ip", "destination.ip", "destination.port"),
    ),
    BuiltinCheck(
        "builtin:exfiltration",
        "Large upload to one outside address",
        "high",
        "One member host sending at least 1 GiB to one outside address within a batch.",
        ("attack.exfiltration", "attack.t1048"),
        ("source.ip", "destination.ip", "source.bytes"),
    ),
)
BUILTIN_IDS = frozenset(c.id for c in BUILTIN_CHECKS)


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
