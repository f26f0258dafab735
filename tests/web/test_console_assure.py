"""The assurance dashboard shows a member its anonymised place among peers of its type."""

from __future__ import annotations

import pytest
from tests.web.conftest import ClientAs

from bastion import assure
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.store import Store

pytestmark = pytest.mark.anyio
ACTOR, EVERYTHING = Actor.cli("t"), Scope.everything()


def _publish(store: Store, org: str, met: bool) -> None:
    with store.session() as session:
        made = assure.open_return(session, org, "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
        answers = {s.id: met for o in made.outcomes for s in o.statements}
        assure.update_return(session, made.id, actor=ACTOR, scope=EVERYTHING, answers=answers)
        assure.publish(session, made.id, actor=ACTOR, scope=EVERYTHING)


async def test_a_lead_sees_its_place_among_peer_trusts_without_their_names(
    store: Store, client_as: ClientAs
) -> None:
    with store.session() as session:
        assure.store_framework(session, assure.shipped_library("dspt"), actor=ACTOR)
    _publish(store, "RAL", met=True)
    _publish(store, "RJ1", met=True)
    _publish(store, "RX1", met=False)
    async with client_as("lead") as lead:
        page = (await lead.get("/assure")).text
    section = page.split('id="peers-RAL"', 1)[1].split("</section>", 1)[0]
    assert "RAL among 2 peers (trust)" in section
    assert '<strong class="own-status">Standards Met</strong>' in section
    assert "<td>Standards Met</td><td>1</td>" in section
    assert "<td>Not Met</td><td>1</td>" in section
    assert "RJ1" not in page
    assert "RX1" not in page
    async with client_as("analyst") as analyst:
        national = (await analyst.get("/assure")).text
    assert "peer-position" not in national
