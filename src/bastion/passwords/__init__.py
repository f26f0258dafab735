"""Compromised passwords: the breached-password store, the range API's answers and the checks."""

from bastion.passwords.build import Builder, BuildResult, Source, source
from bastion.passwords.hashing import md4_many, ntlm_many, sha1_many
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
    "MODES",
    "BreachStore",
    "BuildResult",
    "Builder",
    "Mode",
    "RangeRow",
    "Source",
    "Stores",
    "decode_counts",
    "encode_counts",
    "md4_many",
    "ntlm_many",
    "open_store",
    "padded",
    "parse_prefix",
    "sha1_many",
    "source",
]
