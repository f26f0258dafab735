"""Fixtures of the assurance tests: a small federation and the shipped frameworks stored."""

from __future__ import annotations

import pytest

from bastion import orgs
from bastion.assure.catalogue import store_framework
from bastion.assure.library import shipped_library
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.store import Store

ACTOR = Actor.cli("assessor")
EVERYTHING = Scope.everything()


@pytest.fixture
def federation(sqlite_store: Store) -> Store:
    """A region, an ICB, two trusts and a GP practice; DSPT and Cyber Essentials stored."""
    with sqlite_store.session() as session:
        for code, name, kind, parent in (
            ("Y56", "London", orgs.OrgType.REGION, None),
            ("QMJ", "North Central London ICB", orgs.OrgType.ICB, "Y56"),
            ("RAL", "Royal Free", orgs.OrgType.TRUST, "QMJ"),
            ("RKE", "Whittington", orgs.OrgType.TRUST, "QMJ"),
            ("F83001", "Camden Surgery", orgs.OrgType.GP_PRACTICE, "QMJ"),
        ):
            orgs.save_organisation(
                session, orgs.Organisation(code, name, kind, parent=parent), actor=ACTOR
            )
        for name in ("dspt", "cyber-essentials"):
            store_framework(session, shipped_library(name), actor=ACTOR)
    return sqlite_store
