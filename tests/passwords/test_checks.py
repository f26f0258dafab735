"""The ordered checks: every NCSC top-100k password refused, Entra's examples scored as documented."""

from __future__ import annotations

import numpy as np
import pytest
from tests.passwords.conftest import Corpus

from bastion.core.errors import InputError
from bastion.passwords import (
    Policy,
    check,
    normalise,
    open_store,
    score,
    sha1_many,
    within_one_edit,
)

ENTRA = Policy(
    banned_terms=("contoso", "blank"),
    scoring=True,
    substitutions={"0": "o", "1": "l", "$": "s", "@": "a"},
)


def test_every_ncsc_password_is_refused_alone_and_with_mfa(corpus: Corpus) -> None:
    store = open_store(corpus.root, "sha1")
    counts = dict(
        zip(corpus.passwords, store.lookup(sha1_many(corpus.passwords)).tolist(), strict=True)
    )
    reasons: dict[str, int] = {}
    for mfa in (False, True):
        for password in corpus.passwords:
            verdict = check(password, Policy(), mfa=mfa, breach_count=lambda t: counts.get(t, 0))
            assert not verdict.accepted, password
            reasons[verdict.reason] = reasons.get(verdict.reason, 0) + 1
    lengths = [len(normalise(p)) for p in corpus.passwords]  # NIST counts NFKC characters
    fits = [n for n in lengths if n <= Policy().max_length]  # the list holds a few mojibake giants
    assert reasons["breached"] == sum(n >= 15 for n in fits) + sum(n >= 8 for n in fits)
    assert reasons["too_long"] == 2 * (len(lengths) - len(fits))
    assert set(reasons) == {"too_short", "breached", "too_long"}


def test_length_follows_nist_rev4() -> None:
    never: dict[str, int] = {}

    def run(p: str, mfa: bool) -> str:
        return check(p, Policy(), mfa=mfa, breach_count=lambda _t: never.get(_t, 0)).reason

    assert run("a" * 14, False) == "too_short"
    assert run("correct horse b", False) == "accepted"  # 15 characters alone
    assert run("7 chars", True) == "too_short"
    assert run("8 chars!", True) == "accepted"  # 8 with MFA
    assert run("x" * 64, False) == "accepted"
    assert run("x" * 257, False) == "too_long"
    # NFKC: the ligature "ﬀ" is two characters once normalised; full-width letters are ASCII.
    assert run("ﬀ" * 4, True) == "accepted"
    assert (
        run("ｐａｓｓｗｏｒｄ１２", True)
        == check("password12", Policy(), mfa=True, breach_count=lambda _t: 0).reason
    )


def test_the_breach_threshold_is_the_policys() -> None:
    counts = {"a long but breached passphrase": 3}
    strict, lenient = Policy(min_breach_count=1), Policy(min_breach_count=10)
    breach = lambda t: counts.get(t, 0)  # noqa: E731
    assert (
        check("a long but breached passphrase", strict, mfa=False, breach_count=breach).reason
        == "breached"
    )
    assert check("a long but breached passphrase", lenient, mfa=False, breach_count=breach).accepted


def test_context_words_refuse_the_whole_password_only() -> None:
    context = ["Royal Free London", "royalfreelondon", "jsmith", "John"]
    policy = Policy(min_length_mfa=8)
    verdict = check("R0yalFreeL0nd0n", policy, mfa=True, breach_count=lambda _t: 0, context=context)
    assert verdict.reason == "context"
    assert "name" in verdict.message
    assert check(
        "jsmith-and-his-bicycle", policy, mfa=True, breach_count=lambda _t: 0, context=context
    ).accepted


@pytest.mark.parametrize(
    ("password", "points", "accepted"),
    [
        ("C0ntos0Blank12", 4, False),  # contoso + blank + "1" + "2"
        ("C0ntos0Blank123", 5, True),
        ("P@$$w0rd", 1, False),  # "password" is a default banned term within one edit
        ("c0ntoso!", 1, False),  # one insertion away ("!" is not in this table)
        ("Xcontoso", 1, False),  # one insertion
        ("blankblankblankblank", 4, False),
        ("correct horse battery", 21, True),
    ],
)
def test_entra_scoring_examples(password: str, points: int, accepted: bool) -> None:
    policy = ENTRA if "w0rd" not in password else Policy(scoring=True)
    verdict = check(password, policy, mfa=True, breach_count=lambda _t: 0)
    assert verdict.points == points
    assert verdict.accepted is accepted
    assert verdict.reason == ("accepted" if accepted else "banned_term")


def test_the_substitution_table_is_configurable() -> None:
    no_subs = Policy(banned_terms=("contoso",), substitutions={})
    assert score("c0ntos0", no_subs.banned_terms, no_subs.substitutions) == 7
    assert score("c0ntos0", ENTRA.banned_terms, ENTRA.substitutions) == 1


def test_within_one_edit() -> None:
    assert within_one_edit("contoso", "contoso")
    assert within_one_edit("contoso", "contosa")
    assert within_one_edit("contoso", "contosoo")
    assert not within_one_edit("contoso", "cnotoso")
    assert not within_one_edit("abc", "abcde")


@pytest.mark.parametrize(
    "policy",
    [
        Policy(min_length=7),
        Policy(max_length=63),
        Policy(min_breach_count=0),
        Policy(banned_terms=("abc",)),
        Policy(banned_terms=("x" * 17,)),
        Policy(banned_terms=tuple(f"term{i:04d}" for i in range(1001))),
        Policy(substitutions={"ab": "c"}),
    ],
)
def test_a_policy_out_of_range_is_refused(policy: Policy) -> None:
    with pytest.raises(InputError):
        policy.validated()


def test_a_thousand_terms_of_4_to_16_characters_are_kept_normalised() -> None:
    terms = tuple(f"Term{i:04d}" for i in range(1000))
    assert Policy(banned_terms=terms).validated().banned_terms[0] == "term0000"
    assert np.unique(Policy(banned_terms=terms).validated().banned_terms).size == 1000
