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


async def test_response_times_page_the_organisations_most_cases_first(
    store: Store, client_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bastion.web.console import cases as console_cases

    shared_observable(store)  # one case each at RAL, RJ1 and A81001
    with store.session() as session:
        for title in ("Second at RJ1", "Third at RJ1"):
            cases.create_case(
                session, cases.CaseDraft(title, ("RJ1",)), actor=Actor.cli("t"),
                scope=Scope.everything(),
            )  # fmt: skip
    monkeypatch.setattr(console_cases, "ORG_PAGE_SIZE", 2)
    async with client_as("analyst") as analyst:
        first = await analyst.get("/cases/stats")
        second = await analyst.get("/cases/stats", params={"page": 2, "days": 7})
    assert (first.status_code, second.status_code) == (200, 200)
    rows = [
        s for s in ("all", "critical", "RJ1", "A81001", "RAL") if f'data-slice="{s}"' in first.text
    ]
    assert rows == ["all", "critical", "RJ1", "A81001"]  # RJ1's three cases first, then by code
    assert first.text.index('data-slice="RJ1"') < first.text.index('data-slice="A81001"')
    assert "page 1 of 2" in first.text
    assert 'href="/cases/stats?days=30&amp;page=2"' in first.text
    assert 'data-slice="RAL"' in second.text  # the rest on the next page, the period kept
    assert 'data-slice="RJ1"' not in second.text
    assert 'data-slice="all"' in second.text  # the national and severity figures on every page
    assert '<option value="7" selected>' in second.text


async def test_the_campaign_list_pages_the_most_widespread_first(
    store: Store, client_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bastion.web.console import cases as console_cases

    shared_observable(store)  # c2.example at three organisations
    with store.session() as session:
        for org, value in (("RAL", "two.example"), ("RJ1", "two.example"), ("RAL", "one.example")):
            case = cases.create_case(
                session, cases.CaseDraft(f"{value} at {org}", (org,)), actor=Actor.cli("t"),
                scope=Scope.everything(),
            )  # fmt: skip
            cases.add_observable(
                session, case.id, "domain", value, actor=Actor.cli("t"), scope=Scope.everything()
            )
    monkeypatch.setattr(console_cases, "PAGE_SIZE", 1)
    async with client_as("analyst") as analyst:
        first = await analyst.get("/cases/campaigns")
        second = await analyst.get("/cases/campaigns", params={"page": 2})
    assert "c2.example" in first.text
    assert "two.example" not in first.text
    assert "page 1 of 2" in first.text
    assert "two.example" in second.text
    assert "c2.example" not in second.text
    assert "one.example" not in first.text + second.text  # one organisation: no campaign
