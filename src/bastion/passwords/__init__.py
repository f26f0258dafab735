"""Compromised passwords: the breached-password store, the range API's answers and the checks."""

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
from bastion.passwords.service import CheckCount, check_counts, check_password, count_check
from bastion.passwords.store import (
    MODES,
    BreachStore,
    Mode,
    RangeRow,
    Stores,
    decode_counts,
    encode_counts,
    open_store,
    padded,
    parse_prefix,
)

__all__ = [
    "DEFAULT_BANNED",
    "DEFAULT_SUBSTITUTIONS",
    "MODES",
    "REASONS",
    "BreachStore",
    "BuildResult",
    "Builder",
    "CheckCount",
    "DumpReport",
    "Mode",
    "Policy",
    "RangeRow",
    "Source",
    "Stores",
    "Verdict",
    "audit_dump",
    "check",
    "check_counts",
    "check_password",
    "count_check",
    "decode_counts",
    "encode_counts",
    "get_policy",
    "md4_many",
    "normalise",
    "ntlm_many",
    "open_store",
    "padded",
    "parse_prefix",
    "policy_fields",
    "read_dump",
    "score",
    "set_policy",
    "sha1_many",
    "source",
    "within_one_edit",
]
