"""The ordered checks of a new password, each with a reason code and a message a person can act on.

1. length (NFKC-normalised characters): ``too_short`` / ``too_long``;
2. the whole password against the breached store: ``breached``;
3. the whole password against context words (organisation, service, the person's
   own names and account): ``context``;
4. optionally, Entra-style scoring over the banned terms: ``banned_term``.

Scoring (after Microsoft Entra Password Protection): lower-case, apply the
substitution table (0→o, 1→l, $→s, @→a …); a password within one edit of a banned
term scores 1; otherwise each banned term found in it scores 1 point, and each
character left over 1 point; accept at ``min_points`` (5). This goes beyond NIST's
whole-password comparison: a long password made of one banned term and a few
characters is refused although no list holds it whole.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bastion.passwords.policy import Policy

REASONS = ("accepted", "too_short", "too_long", "breached", "context", "banned_term")
MESSAGES = {
    "accepted": "This password is accepted.",
    "too_short": "Use at least {need} characters: a longer passphrase of a few unrelated words works well.",
    "too_long": "Use at most {need} characters.",
    "breached": "This password has appeared in data breaches, so attackers try it: choose another.",
    "context": "Do not use your name, your account name or your organisation's name as your password.",
    "banned_term": "This password is built on commonly guessed words: add more of your own words.",
}


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str
    message: str
    points: int | None = None


def normalise(password: str) -> str:
    """Return the password as compared: Unicode NFKC."""
    return unicodedata.normalize("NFKC", password)


def _fold(text: str, substitutions: dict[str, str]) -> str:
    return "".join(substitutions.get(c, c) for c in text.lower())


def within_one_edit(a: str, b: str) -> bool:
    """Tell whether ``a`` becomes ``b`` by at most one insertion, deletion or substitution."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


def score(password: str, terms: Iterable[str], substitutions: dict[str, str]) -> int:
    """Return the Entra-style points of ``password`` against banned ``terms``."""
    folded = _fold(password, substitutions)
    banned = sorted({_fold(t, substitutions) for t in terms if t}, key=len, reverse=True)
    if any(within_one_edit(folded, t) for t in banned):
        return 1
    points = 0
    rest = folded
    for term in banned:  # longest first, so "password" is one term, not "pass" and "word"
        found = rest.count(term)
        if found:
            points += found
            rest = rest.replace(term, "\0")
    return points + len(rest.replace("\0", ""))


def check(
    password: str,
    policy: Policy,
    *,
    mfa: bool,
    breach_count: Callable[[str], int],
    context: Iterable[str] = (),
) -> Verdict:
    """Run the ordered checks; the first that fails gives the reason."""
    text = normalise(password)
    need = policy.min_length_mfa if mfa else policy.min_length
    if len(text) < need:
        return Verdict(False, "too_short", MESSAGES["too_short"].format(need=need))
    if len(text) > policy.max_length:
        return Verdict(False, "too_long", MESSAGES["too_long"].format(need=policy.max_length))
    # Breach corpora hold passwords as typed: look up the text as given and as normalised.
    breaches = max(breach_count(t) for t in {password, text})
    if breaches >= policy.min_breach_count:
        return Verdict(False, "breached", MESSAGES["breached"])
    folded = _fold(text, policy.substitutions)
    words = {_fold(w.strip(), policy.substitutions) for w in context if len(w.strip()) >= 3}
    if folded in words or folded.replace(" ", "") in {w.replace(" ", "") for w in words}:
        return Verdict(False, "context", MESSAGES["context"])
    if policy.scoring:
        points = score(text, (*policy.banned_terms, *words), policy.substitutions)
        if points < policy.min_points:
            return Verdict(False, "banned_term", MESSAGES["banned_term"], points)
        return Verdict(True, "accepted", MESSAGES["accepted"], points)
    return Verdict(True, "accepted", MESSAGES["accepted"])
