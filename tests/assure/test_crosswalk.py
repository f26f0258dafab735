"""One evidence link supports outcomes in every framework an organisation answers, via mappings."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.assure.conftest import ACTOR, EVERYTHING

from bastion.assure.catalogue import store_framework
from bastion.assure.crosswalk import evidence_across
from bastion.assure.library import read_library
from bastion.assure.returns import open_return, update_return
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope
from bastion.store import Store

RULES = "https://evidence.example/ral/firewall-rules-2025.pdf"


def test_firewall_rules_on_cyber_essentials_support_caf_b4c_and_dspt_9(
    federation: Store, shared_data: Path
) -> None:
    with federation.session() as session:
        store_framework(session, read_library(shared_data / "assurance" / "ncsc-caf-v4.0.yaml"),
                        actor=ACTOR)  # fmt: skip
        ce = open_return(
            session, "RAL", "2024-25", "cyber-essentials", actor=ACTOR, scope=EVERYTHING
        )
        caf = open_return(session, "RAL", "2024-25", "ncsc-caf", actor=ACTOR, scope=EVERYTHING)
        dspt = open_return(session, "RAL", "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
        update_return(
            session, ce.id, actor=ACTOR, scope=EVERYTHING, evidence={"firewalls": [RULES]}
        )
        update_return(session, dspt.id, actor=ACTOR, scope=EVERYTHING,
                      evidence={"9": [RULES], "1": ["https://evidence.example/ropa.xlsx"]})  # fmt: skip
        [rules, ropa] = evidence_across(session, "ral", Scope.of(["RAL"]))
        other = evidence_across(session, "RKE", EVERYTHING)
        with pytest.raises(NotFoundError):
            evidence_across(session, "RAL", Scope.of(["RKE"]))
    uses = {(u.framework.partition("@")[0], u.outcome): u for u in rules.uses}
    # Attached on CE firewalls and DSPT 9; mapped from there to CAF B4.c (CE maps it) and
    # B4.b (DSPT 9 maps it); CE malware is mapped from DSPT 9 too. Not transitive beyond that.
    assert sorted(uses) == [
        ("cyber-essentials", "firewalls"), ("cyber-essentials", "malware"), ("dspt", "9"),
        ("ncsc-caf", "B4.b"), ("ncsc-caf", "B4.c"),
    ]  # fmt: skip
    assert uses[("cyber-essentials", "firewalls")].attached
    assert uses[("dspt", "9")].attached
    assert uses[("dspt", "9")].return_id == dspt.id
    b4c = uses[("ncsc-caf", "B4.c")]
    assert (b4c.attached, b4c.return_id, b4c.title) == (False, caf.id, "Secure Management")
    assert b4c.via in {"cyber-essentials:firewalls", "dspt:9"}
    assert rules.frameworks == ("cyber-essentials", "dspt", "ncsc-caf")
    # The record of processing (DSPT 1) maps to CAF A3.a and B3.a only.
    assert sorted((u.framework.partition("@")[0], u.outcome) for u in ropa.uses) == [
        ("dspt", "1"), ("ncsc-caf", "A3.a"), ("ncsc-caf", "B3.a")
    ]  # fmt: skip
    assert other == []
