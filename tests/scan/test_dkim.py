"""DKIM records read as a verifier reads them, and the selectors an organisation registers."""

from __future__ import annotations

import pytest
from tests.scan.test_findings import ACTOR

from bastion import orgs, scan
from bastion.core.errors import InputError
from bastion.core.types import Severity
from bastion.demo.scanlab.dkimkeys import dkim_record
from bastion.scan.checks.dkim import (
    COMMON_SELECTORS,
    DkimKey,
    problems,
    read_key,
    selectors_for,
)
from bastion.store import Store

ED25519 = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="


def _text(record: str) -> str:
    return "".join(part.strip('"') for part in record.split('" "'))


def test_selectors_registered_for_a_domain_or_every_domain_else_the_common_ones() -> None:
    mine = ("s1", "s2@mail.a.example", "s3@other.example")
    assert selectors_for(mine, "mail.a.example") == (("s1", "s2"), True)
    assert selectors_for(("s3@other.example",), "mail.a.example") == (COMMON_SELECTORS, False)


def test_keys_and_their_problems() -> None:
    strong = read_key("s1", True, _text(dkim_record(2048)))
    assert (strong.bits, strong.testing, strong.error) == (2048, False, "")
    assert read_key("s0", True, _text(dkim_record(768))).bits == 768
    assert read_key("ed", True, ED25519).key_type == "ed25519"
    keys = (
        strong,
        read_key("short", True, _text(dkim_record(768))),
        read_key("ed", True, ED25519),
        read_key("old", True, "v=DKIM1; p="),  # revoked
        read_key("junk", True, "v=DKIM1; k=rsa; p=bm90IGEga2V5"),
        read_key("trial", True, _text(dkim_record(2048, testing=True))),
    )
    found = {detail: severity for detail, _t, severity, _s in problems("a.example", keys)}
    assert found == {
        "dkim:weak-key:short": Severity.HIGH,
        "dkim:missing:old": Severity.MEDIUM,
        "dkim:missing:junk": Severity.MEDIUM,
        "dkim:testing:trial": Severity.LOW,
    }
    common = tuple(read_key(s, False, None) for s in COMMON_SELECTORS)
    assert [d for d, *_ in problems("a.example", common)] == ["dkim:none-found"]
    timed_out = DkimKey("google", False, lookup_error="google._domainkey.a.example TXT: Timeout")
    assert problems("a.example", (*common[1:], timed_out)) == []  # not known: not a finding
    assert problems("a.example", (DkimKey("s1", True, lookup_error="Timeout"),)) == []
    assert problems("a.example", (*common[:-1], read_key("mxvault", False, ED25519))) == []


def test_a_policy_keeps_valid_selectors_and_refuses_others(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        orgs.save_organisation(
            session, orgs.Organisation("A81001", "Riverside", orgs.OrgType.GP_PRACTICE), actor=ACTOR
        )
        saved = scan.set_policy(
            session, scan.ScanPolicy("A81001", dkim_selectors=("S1", "s2@mail.a.example", "s1")),
            actor=ACTOR,
        )  # fmt: skip
        assert saved.dkim_selectors == ("s1", "s2@mail.a.example")
        with pytest.raises(InputError, match="invalid DKIM selector 'bad selector'"):
            scan.set_policy(
                session, scan.ScanPolicy("A81001", dkim_selectors=("bad selector",)), actor=ACTOR
            )
