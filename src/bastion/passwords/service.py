"""The door of the password service: check a password at an organisation, count, report counts.

A check keeps nothing of the password: the verdict's reason is counted per
organisation and day (``password_check_counts``), never the password, its hash or
the account it was for. A k-anonymous check (a hash prefix in, suffixes out) is
counted the same way, as ``prefix_only``: the server never learns its verdict.
The web app counts through a ``CheckTally`` (``tally.py``), written a second later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from bastion import orgs
from bastion.core.errors import NotFoundError, StoreError
from bastion.core.scope import Scope
from bastion.passwords.checks import REASONS, Verdict, check
from bastion.passwords.hashing import sha1_many
from bastion.passwords.models import PasswordCheckCountRow
from bastion.passwords.policy import Policy, policy_for_checks, policy_held
from bastion.passwords.store import Stores
from bastion.passwords.tally import CheckTally, count_check, write_pending
from bastion.store.membership import one_of

PREFIX_ONLY = "prefix_only"  # the reason counted for a k-anonymous check (the client decides)
COUNTED = (*REASONS, PREFIX_ONLY)
NOT_BLOCKS = ("accepted", PREFIX_ONLY)  # reasons that are not a refused password
SERVICE_WORDS = ("nhs", "bastion", "nhsmail", "health", "care")
# Words of organisation names that say what kind it is, not which: "Royal Free London" is the name.
GENERIC = {"nhs", "foundation", "trust", "icb", "the", "surgery", "practice", "and", "of"}


# How long a process keeps an organisation's words (its names and hosts change rarely; a
# check reads them on every call). A rename or a new host reaches the checks within this.
ORG_WORDS_SECONDS = 30.0
_org_words_held: dict[str, tuple[float, list[str]]] = {}


def context_words(session: Session, org: str, user_words: list[str]) -> list[str]:
    """Return the words a password must not be: the organisation's, the service's, the person's.

    The organisation's words are kept ``ORG_WORDS_SECONDS`` per process.
    """
    now = time.monotonic()
    held = _org_words_held.get(org)
    if held is None or held[0] <= now:
        held = _org_words_held[org] = (now + ORG_WORDS_SECONDS, _org_words(session, org))
    words = list(held[1])
    for word in user_words:
        words += [word, *word.replace(".", " ").replace("@", " ").split()]
    return words


def checks_held(session: Session, org: str) -> bool:
    """Tell whether this process holds ``org``'s policy and words: a check then reads no
    table (a caller in an event loop need not leave it)."""
    held = _org_words_held.get(org)
    return held is not None and held[0] > time.monotonic() and policy_held(session, org)


def _org_words(session: Session, org: str) -> list[str]:
    """Return the organisation's own words: code, names (its parent's too), host names."""
    organisation = orgs.organisation_names_of(session, org)  # not its networks and contacts
    names = [organisation.name]
    if organisation.parent_name:
        names.append(organisation.parent_name)
    words = [organisation.code, *SERVICE_WORDS]
    for name in names:
        distinctive = " ".join(w for w in name.split() if w.lower() not in GENERIC)
        words += [name, distinctive, *name.split()]
    words += [hostname.split(".")[0] for hostname in organisation.hostnames]
    return words


def breach_counter(stores: Stores) -> Callable[[str], int]:
    """Return a function giving a password's exact breach count from the SHA-1 store."""
    try:
        store = stores.get("sha1")
    except NotFoundError as exc:
        msg = f"the breached-password store is not available: {exc}"
        raise StoreError(msg) from None
    return lambda text: store.lookup_one(sha1_many([text])[0].tobytes(), exact=True)


def check_password(
    session: Session,
    stores: Stores,
    org: str,
    password: str,
    *,
    mfa: bool = False,
    user_words: list[str] | None = None,
    tally: CheckTally | None = None,
) -> Verdict:
    """Check a new password for an account at ``org`` and count the verdict's reason (in
    ``tally`` when given, else in ``session``)."""
    policy = policy_for_checks(session, org)
    context = context_words(session, org, user_words or [])
    verdict = check(password, policy, mfa=mfa, breach_count=breach_counter(stores), context=context)
    _count(session, tally, org, verdict.reason)
    return verdict


def check_prefix(
    session: Session, stores: Stores, org: str, prefix: str, tally: CheckTally | None = None
) -> tuple[Policy, dict[str, int]]:
    """The k-anonymous check: return ``org``'s policy and the prefix's breached suffixes.

    Only the suffixes at or over the policy's minimum breach count are returned; the
    client decides, so the count kept is of ``prefix_only`` checks, not of a verdict
    (the prefix itself, five hex digits of the hash, is not kept either).
    """
    policy = policy_for_checks(session, org)
    try:
        rows = stores.get("sha1").range(prefix)
    except NotFoundError as exc:
        msg = f"the breached-password store is not available: {exc}"
        raise StoreError(msg) from None
    _count(session, tally, org, PREFIX_ONLY)
    return policy, {r.suffix: r.count for r in rows if r.count >= policy.min_breach_count}


def _count(session: Session, tally: CheckTally | None, org: str, reason: str) -> None:
    if tally is None:
        count_check(session, org, reason)
    else:
        tally.add(org, reason)


@dataclass(frozen=True)
class CheckCount:
    org: str
    month: str
    reason: str
    checks: int


def check_counts(session: Session, scope: Scope, *, since: date | None = None) -> list[CheckCount]:
    """Return the checks per organisation, month and reason that ``scope`` may see."""
    write_pending(session)  # this process's counts not yet written by its tally
    row = PasswordCheckCountRow
    month = func.substr(cast(row.day, String), 1, 7)
    query = select(row.org_code, month, row.reason, func.sum(row.checks)).group_by(
        row.org_code, month, row.reason
    )
    if scope.codes is not None:
        query = query.where(one_of(row.org_code, scope.codes))
    if since is not None:
        query = query.where(row.day >= since)
    found = session.execute(query.order_by(row.org_code, month, row.reason))
    return [CheckCount(o, str(m), r, int(n)) for o, m, r, n in found]
