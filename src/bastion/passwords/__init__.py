"""Compromised passwords: the breached-password store, the range API's answers and the checks."""

from bastion.passwords.areas import Area, areas, blocks_by
from bastion.passwords.build import Builder, BuildResult, Source, source
from bastion.passwords.checks import REASONS, Verdict, check, normalise, score, within_one_edit
from bastion.passwords.dump import DumpReport, audit_dump, read_dump
from bastion.passwords.hashing import md4_many, ntlm_many, sha1_many
from bastion.passwords.policy import (
    DEFAULT_BANNED,
    DEFAULT_SUBSTITUTIONS,
    Policy,
    get_policy,
    policy_fields,
    set_policy,
)
from bastion.passwords.reports import AuditReport, get_audit, list_audits, run_audit
from bastion.passwords.service import (
    COUNTED,
    NOT_BLOCKS,
    PREFIX_ONLY,
    CheckCount,
    check_counts,
    check_password,
    check_prefix,
    checks_held,
)
from bastion.passwords.store import (
    MODES,
    BreachStore,
    Mode,
    RangeRow,
    Stores,
    decode_counts,
    encode_counts,
    open_store,
    padded_body,
    padded_lines,
    parse_prefix,
)
from bastion.passwords.tally import CheckTally, count_check

__all__ = [
    "COUNTED",
    "DEFAULT_BANNED",
    "DEFAULT_SUBSTITUTIONS",
    "MODES",
    "NOT_BLOCKS",
    "PREFIX_ONLY",
    "REASONS",
    "Area",
    "AuditReport",
    "BreachStore",
    "BuildResult",
    "Builder",
    "CheckCount",
    "CheckTally",
    "DumpReport",
    "Mode",
    "Policy",
    "RangeRow",
    "Source",
    "Stores",
    "Verdict",
    "areas",
    "audit_dump",
    "blocks_by",
    "check",
    "check_counts",
    "check_password",
    "check_prefix",
    "checks_held",
    "count_check",
    "decode_counts",
    "encode_counts",
    "get_audit",
    "get_policy",
    "list_audits",
    "md4_many",
    "normalise",
    "ntlm_many",
    "open_store",
    "padded_body",
    "padded_lines",
    "parse_prefix",
    "policy_fields",
    "policy_for_checks",
    "read_dump",
    "run_audit",
    "score",
    "set_policy",
    "sha1_many",
    "source",
    "within_one_edit",
]
