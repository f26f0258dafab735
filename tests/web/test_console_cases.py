"""The console's case pages: a member's campaign view counts other organisations it may not name."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bastion import cases
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.store import Store

pytestmark = pytest.mark.anyio


def shared_observable(store: Store) -> dict[str, int]:
    """Open an AMBER case at RAL and RJ1 and a GREEN one at A81001, all with c2.example."""
    made = {}
    with store.session() as session:
        for org, tlp in (("RAL", "AMBER"), ("RJ1", "AMBER"), ("A81001", "GREEN")):
            draft = cases.CaseDraft(f"Case at {org}", (org,), tlp=tlp, personal_data=True)
            case = cases.create_case(session, draft, actor=Actor.cli("t"), scope=Scope.everything())
            cases.add_observable(
                session,
                case.id,
                "domain",
                "c2.example",
                actor=Actor.cli("t"),
                scope=Scope.everything(),
            )
            made[org] = case.id
    return made


async def test_a_lead_sees_its_case_page_and_a_campaign_without_other_names(
    store: Store, client_as: Any
) -> None:
    made = shared_observable(store)
    async with client_as("lead") as lead:
        page = await lead.get(f"/cases/{made['RAL']}")
        campaign = await lead.get(
            "/cases/campaigns", params={"kind": "domain", "value": "c2.example"}
        )
        listed = await lead.get("/cases")
        theirs = await lead.get(f"/cases/{made['RJ1']}")
    assert page.status_code == 200
    assert "Personal-data breach report" in page.text
    assert "Sector incident report" in page.text
    assert 'id="status-form"' in page.text  # the lead may act on its own case
    assert campaign.status_code == 200
    assert "1 other organisation is affected" in campaign.text
    assert 'data-org="A81001"' in campaign.text  # shared TLP:GREEN: named
    assert "RJ1" not in campaign.text
    assert f'data-case="{made["RAL"]}"' in listed.text
    assert f'data-case="{made["RJ1"]}"' not in listed.text
    assert theirs.status_code == 404


async def test_a_viewer_reads_a_case_without_its_forms(store: Store, client_as: Any) -> None:
    made = shared_observable(store)
    async with client_as("viewer") as viewer:
        page = await viewer.get(f"/cases/{made['RAL']}")
        refused = await viewer.post(
            f"/cases/{made['RAL']}/act", data={"step": "note", "value": "x"}
        )
    assert page.status_code == 200
    assert 'id="status-form"' not in page.text
    assert refused.status_code == 403


async def test_an_unknown_step_is_a_400_not_a_500(client: httpx.AsyncClient, store: Store) -> None:
    made = shared_observable(store)
    answer = await client.post(f"/cases/{made['RAL']}/act", data={"step": "explode"})
    assert answer.status_code == 400
    assert "unknown step" in answer.text


async def test_the_health_form_records_impact_systems_and_downtime(
    client: httpx.AsyncClient, store: Store
) -> None:
    made = shared_observable(store)
    form = {"step": "health", "value": "actual", "detail": "PACS, EPR", "downtime": "on"}
    answer = await client.post(f"/cases/{made['RAL']}/act", data=form)
    assert answer.status_code == 303
    with store.session() as session:
        case = cases.get_case(session, made["RAL"], Scope.everything())
    assert (case.patient_impact.value, case.clinical_systems) == ("actual", ("PACS", "EPR"))
    assert case.downtime_since is not None
    off = await client.post(f"/cases/{made['RAL']}/act", data={**form, "downtime": ""})
    assert off.status_code == 303
    with store.session() as session:
        assert cases.get_case(session, made["RAL"], Scope.everything()).downtime_since is None


async def test_a_lead_merges_its_own_cases_but_not_anothers(store: Store, client_as: Any) -> None:
    made = shared_observable(store)
    with store.session() as session:
        second = cases.create_case(
            session, cases.CaseDraft("Second at RAL", ("RAL",)), actor=Actor.cli("t"),
            scope=Scope.everything(),
        )  # fmt: skip
    async with client_as("lead") as lead:
        foreign = await lead.post(
            f"/cases/{made['RAL']}/act", data={"step": "merge", "value": str(made["RJ1"])}
        )
        merged = await lead.post(
            f"/cases/{made['RAL']}/act", data={"step": "merge", "value": str(second.id)}
        )
    assert (foreign.status_code, merged.status_code) == (404, 303)
    with store.session() as session:
        assert cases.get_case(session, second.id, Scope.everything()).merged_into == made["RAL"]
        assert cases.get_case(session, made["RJ1"], Scope.everything()).merged_into is None
