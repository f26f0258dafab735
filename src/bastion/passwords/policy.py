"""Password policies: the national default and each organisation's own, every change audited.

A policy follows NIST SP 800-63B rev. 4 by default: at least 15 characters for a
password used alone, 8 with multi-factor authentication, up to at least 64
accepted, no composition rules, and the whole password compared with breached
passwords and with context words. ``scoring`` adds the stricter, Entra-style rule
(``bastion.passwords.checks.score``) over the banned terms.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.errors import InputError
from bastion.core.timeutil import utcnow
from bastion.passwords.models import NATIONAL, PasswordPolicyRow

MAX_BANNED_TERMS = 1000
TERM_LENGTH = (4, 16)
# Entra's documented substitutions (0→o, 1→l, $→s, @→a) and the commonest others.
DEFAULT_SUBSTITUTIONS = {
    "0": "o",
    "1": "l",
    "$": "s",
    "@": "a",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
}
DEFAULT_BANNED = (
    "password", "passw0rd", "welcome", "qwerty", "letmein", "changeme", "monkey",
    "dragon", "summer", "winter", "spring", "autumn", "january", "february",
    "december", "london", "football", "admin", "secret", "hospital", "nurse", "doctor",
)  # fmt: skip


@dataclass(frozen=True)
class Policy:
    """What a password must satisfy at one organisation."""

    min_length: int = 15
    min_length_mfa: int = 8
    max_length: int = 256
    min_breach_count: int = 1
    scoring: bool = False
    min_points: int = 5
    substitutions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SUBSTITUTIONS))
    banned_terms: tuple[str, ...] = DEFAULT_BANNED

    def validated(self) -> Policy:
        """Return the policy with its terms normalised; InputError when a value is out of range."""
        if not 8 <= self.min_length_mfa <= self.min_length <= 64:
            msg = "lengths: 8 <= min_length_mfa <= min_length <= 64 (NIST: 8 with MFA, 15 alone)"
            raise InputError(msg)
        if self.max_length < 64:
            msg = "max_length: at least 64 (NIST SP 800-63B: accept passwords of 64 characters)"
            raise InputError(msg)
        if self.min_breach_count < 1:
            msg = "min_breach_count: at least 1"
            raise InputError(msg)
        if not 1 <= self.min_points <= 64:
            msg = "min_points: between 1 and 64 (Entra accepts at 5)"
            raise InputError(msg)
        for source, target in self.substitutions.items():
            if len(source) != 1 or len(target) != 1:
                msg = f"substitution {source!r} -> {target!r}: one character to one character"
                raise InputError(msg)
        terms = sorted({t.strip().lower() for t in self.banned_terms if t.strip()})
        if len(terms) > MAX_BANNED_TERMS:
            msg = f"{len(terms)} banned terms: at most {MAX_BANNED_TERMS}"
            raise InputError(msg)
        low, high = TERM_LENGTH
        for term in terms:
            if not low <= len(term) <= high:
                msg = f"banned term {term[:20]!r}: {low} to {high} characters"
                raise InputError(msg)
        return replace(self, banned_terms=tuple(terms))

    def settings(self) -> dict[str, Any]:
        values = asdict(self)
        del values["banned_terms"], values["scoring"]
        return values


def _row(session: Session, org: str) -> PasswordPolicyRow | None:
    found: PasswordPolicyRow | None = session.scalar(
        select(PasswordPolicyRow).where(PasswordPolicyRow.org_code == org)
    )
    return found


def _policy(row: PasswordPolicyRow) -> Policy:
    return Policy(**row.settings, scoring=row.scoring, banned_terms=tuple(row.banned_terms))


def get_policy(session: Session, org: str | None) -> tuple[Policy, str]:
    """Return the policy in force at ``org`` and whose it is ("RAL", "national" or "default")."""
    for code in ([org] if org else []) + [NATIONAL]:
        row = _row(session, code)
        if row is not None:
            return _policy(row), code or "national"
    return Policy(), "default"


# How long a process keeps an organisation's policy for its checks. A change made in
# this process applies at once (``set_policy`` forgets it); in another within this.
POLICY_SECONDS = 5.0
_policy_held: dict[tuple[str, str], tuple[float, Policy]] = {}  # (database, org) -> policy


def policy_held(session: Session, org: str) -> bool:
    """Tell whether this process holds ``org``'s policy (``policy_for_checks`` reads no table)."""
    held = _policy_held.get((str(session.get_bind().engine.url), org))
    return held is not None and held[0] > time.monotonic()


def policy_for_checks(session: Session, org: str) -> Policy:
    """Return the policy in force at ``org``, kept ``POLICY_SECONDS`` per process."""
    now = time.monotonic()
    key = (str(session.get_bind().engine.url), org)
    held = _policy_held.get(key)
    if held is None or held[0] <= now:
        held = _policy_held[key] = (now + POLICY_SECONDS, get_policy(session, org)[0])
    return held[1]


def set_policy(session: Session, actor: Actor, org: str | None, policy: Policy) -> Policy:
    """Save ``org``'s policy (None: the national default) and record the change."""
    checked = policy.validated()
    code = org or NATIONAL
    row = _row(session, code)
    before = policy_fields(_policy(row)) if row else None
    if row is None:
        row = PasswordPolicyRow(org_code=code)
        session.add(row)
    row.settings = checked.settings()
    row.banned_terms = list(checked.banned_terms)
    row.scoring = checked.scoring
    row.updated_at = utcnow()
    _policy_held.clear()  # a national change is every organisation's without a policy of its own
    target = f"password_policy:{code or 'national'}"
    audit.record(
        session,
        actor,
        "passwords.policy.set",
        target,
        org=org,
        before=before,
        after=policy_fields(checked),
    )
    return checked


def policy_fields(policy: Policy) -> dict[str, Any]:
    """Return the policy as plain fields (for the API, the console and the audit trail)."""
    return {
        **policy.settings(),
        "scoring": policy.scoring,
        "banned_terms": list(policy.banned_terms),
    }
