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
        assert published.headers["location"] == f"/advisories/{ref}?done=published"
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
    ref = await published(client_as)
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


async def published(client_as: ClientAs) -> str:
    """Draft and publish the DRAFT alert as the analyst; return its ref."""
    async with client_as("analyst") as analyst:
        ref: str = (await analyst.post(API, json=DRAFT)).json()["ref"]
        await analyst.post(f"{API}/{ref}/publish")
    return ref


async def test_acknowledging_is_confirmed_and_not_offered_again(
    client_as: ClientAs, mail: Mailbox
) -> None:
    ref = await published(client_as)
    async with client_as("lead") as lead:
        before = (await lead.get(f"/advisories/{ref}")).text
        answer = await lead.post(
            f"/advisories/{ref}/respond", data={"step": "acknowledge", "organisations": "RAL"}
        )
        after = (await lead.get(answer.headers["location"])).text
    assert 'id="respond-acknowledge"' in before
    assert answer.headers["location"].startswith(f"/advisories/{ref}?done=acknowledge&orgs=RAL")
    assert 'id="done-notice"' in after
    assert "Acknowledged for RAL." in after
    assert 'id="respond-acknowledge"' not in after  # done: no button to do it again
    assert 'id="respond-applicability"' in after  # the next steps stay


async def test_applies_starts_unanswered_and_needs_an_answer(
    client_as: ClientAs, mail: Mailbox
) -> None:
    ref = await published(client_as)
    async with client_as("lead") as lead:
        page = (await lead.get(f"/advisories/{ref}")).text
        unanswered = await lead.post(
            f"/advisories/{ref}/respond",
            data={"step": "applicability", "organisations": "RAL", "applicability": ""},
        )
        shown = (await lead.get(f"/advisories/{ref}")).text
    select = page.split('id="applicability"', 1)[1].split("</select>", 1)[0]
    assert " required" in select
    assert '<option value="" selected disabled>' in select
    assert 'value="applicable" selected' not in select
    assert 'value="applicable">' in select
    assert unanswered.status_code == 400
    assert "choose whether the alert applies" in unanswered.text
    row = shown.split('data-response="RAL"', 1)[1].split("</tr>", 1)[0]
    assert "applicable" not in row  # nothing was recorded


async def test_a_published_first_version_is_not_labelled_draft(
    client_as: ClientAs, mail: Mailbox
) -> None:
    async with client_as("analyst") as analyst:
        ref = (await analyst.post(API, json=DRAFT)).json()["ref"]
        drafted = (await analyst.get(f"/advisories/{ref}")).text
        await analyst.post(f"{API}/{ref}/publish")
        published = (await analyst.get(f"/advisories/{ref}")).text
    versions = published.split('id="versions"', 1)[1]
    assert ">draft<" not in versions
    assert "First version" in versions
    assert ">Draft<" in drafted.split('id="versions"', 1)[1]


async def test_an_analyst_drafts_an_alert_in_the_console(
    client_as: ClientAs, mail: Mailbox
) -> None:
    form = {
        "title": "Exploited flaw in Example VPN",
        "severity": "high",
        "summary": "Patch now.",
        "cves": "CVE-2024-0001, CVE-2024-0002",
        "organisations": "RAL rj1",
    }
    async with client_as("analyst") as analyst:
        listing = (await analyst.get("/advisories")).text
        answer = await analyst.post("/advisories", data=form)
        page = (await analyst.get(answer.headers["location"])).text
        missing = await analyst.post("/advisories", data={"severity": "high"})
    async with client_as("lead") as lead:
        lead_listing = (await lead.get("/advisories")).text
        refused = await lead.post("/advisories", data=form)
    assert 'id="draft-form"' in listing
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("?done=drafted")
    assert "Exploited flaw in Example VPN" in page
    assert "CVE-2024-0001, CVE-2024-0002" in page
    assert 'id="publish-form"' in page
    assert '<strong id="preview-count">2</strong>' in page  # RAL and RJ1 named
    assert missing.status_code == 400
    assert 'id="draft-form"' not in lead_listing
    assert refused.status_code == 403
