"""The console's national cyber alert pages for a national analyst and an organisation's lead."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from tests.advisories.smtp import Mailbox, smtp_server  # noqa: F401  (fixture)
from tests.web.conftest import ClientAs

from bastion.advisories.notify import SmtpConfig

pytestmark = pytest.mark.anyio

API = "/api/v1/advisories"
DRAFT = {
    "title": "Exploited flaw in Example mail servers",
    "severity": "medium",
    "summary": "Mail servers <b>exposed</b>.",
    "organisations": ["RAL", "RJ1"],
}


@pytest.fixture
def mail(app: FastAPI, smtp_server: tuple[SmtpConfig, Mailbox]) -> Mailbox:  # noqa: F811
    config, mailbox = smtp_server
    app.state.advisories_smtp = config
    return mailbox


async def test_analyst_publishes_from_the_page_and_sees_affected_organisations(
    client_as: ClientAs, mail: Mailbox
) -> None:
    async with client_as("analyst") as analyst:
        ref = (await analyst.post(API, json=DRAFT)).json()["ref"]
        draft_page = await analyst.get(f"/advisories/{ref}")
        assert draft_page.status_code == 200
        assert 'id="publish-form"' in draft_page.text
        assert "Mail servers &lt;b&gt;exposed&lt;/b&gt;." in draft_page.text  # escaped
        published = await analyst.post(f"/advisories/{ref}/publish", data={})
        assert published.status_code == 303
        assert published.headers["location"] == f"/advisories/{ref}"
        page = (await analyst.get(f"/advisories/{ref}")).text
        listing = (await analyst.get("/advisories")).text
    assert 'id="publish-form"' not in page
    assert "Affected organisations" in page
    assert 'data-response="RAL"' in page
    assert 'data-response="RJ1"' in page
    assert "2 organisations reached" in page
    assert f'data-advisory="{ref}"' in listing
    assert 'href="/advisories"' in listing  # the navigation entry
    assert len(mail.to("ann.example@royalfree.example")) == 1


async def test_lead_responds_with_the_forms(client_as: ClientAs, mail: Mailbox) -> None:
    async with client_as("analyst") as analyst:
        ref = (await analyst.post(API, json=DRAFT)).json()["ref"]
        await analyst.post(f"{API}/{ref}/publish")
    async with client_as("lead") as lead:
        page = (await lead.get(f"/advisories/{ref}")).text
        assert "Your response" in page
        assert 'data-response="RAL"' in page
        assert 'data-response="RJ1"' not in page
        assert 'id="respond-acknowledge"' in page
        assert "<script" not in page.split("<main", 1)[1]
        for form in (
            {"step": "acknowledge", "organisations": "RAL"},
            {"step": "applicability", "organisations": "RAL", "applicability": "applicable"},
            {"step": "action", "organisations": "RAL", "description": "Patch both servers"},
            {"step": "close", "organisations": "RAL"},
        ):
            answer = await lead.post(f"/advisories/{ref}/respond", data=form)
            assert answer.status_code == 303, (form, answer.text)
        done = (await lead.get(f"/advisories/{ref}")).text
        refused = await lead.post(
            f"/advisories/{ref}/respond", data={"step": "acknowledge", "organisations": "RJ1"}
        )
        bad = await lead.post(
            f"/advisories/{ref}/respond", data={"step": "dance", "organisations": "RAL"}
        )
    assert "Patch both servers (planned)" in done
    assert "Closed" in done
    assert 'id="respond-acknowledge"' not in done  # nothing left open to act on
    assert refused.status_code == 404
    assert 400 <= bad.status_code < 500
    async with client_as("viewer") as viewer:
        seen = await viewer.get(f"/advisories/{ref}")
        listing = await viewer.get("/advisories")
    assert seen.status_code == 200
    assert 'id="respond-acknowledge"' not in seen.text
    assert f'data-advisory="{ref}"' in listing.text


async def test_the_list_pages_on_the_server(client_as: ClientAs, mail: Mailbox) -> None:
    async with client_as("analyst") as analyst:
        refs = [(await analyst.post(API, json=DRAFT)).json()["ref"] for _ in range(27)]
        first = (await analyst.get("/advisories")).text
        second = (await analyst.get("/advisories", params={"page": 2})).text
        beyond = (await analyst.get("/advisories", params={"page": 9})).text
    assert first.count("data-advisory=") == 25
    assert second.count("data-advisory=") == 2
    assert f'data-advisory="{refs[0]}"' in second  # oldest last
    assert "There is no page 9" in beyond
