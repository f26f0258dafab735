"""`/api/v1/cases`: what a case answers, bad input as 4xx, attachments, campaigns by tenancy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.anyio

API = "/api/v1/cases"


async def new_case(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"title": "Beacon", "organisations": ["RAL"], **fields}
    answer = await client.post(API, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"techniques": ["T99"]}, 400, "invalid ATT&CK technique"),
        ({"severity": "urgent"}, 422, "severity"),
        ({"organisations": []}, 422, "organisations"),
        ({"tlp": "PINK"}, 400, "unknown TLP"),
        ({"template": "Nope"}, 400, "unknown case template"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
async def test_bad_cases_are_4xx_naming_what_is_wrong(
    sqlite_client: httpx.AsyncClient, body: dict[str, Any], status: int, says: str
) -> None:
    answer = await sqlite_client.post(API, json={"title": "x", "organisations": ["RAL"], **body})
    assert answer.status_code == status, answer.text
    assert says in answer.text


async def test_a_case_page_has_its_health_fields_clocks_and_tasks(
    sqlite_client: httpx.AsyncClient,
) -> None:
    made = await new_case(
        sqlite_client, template="Ransomware precursor", personal_data=True, severity="critical",
        patient_impact="potential", clinical_systems=["PACS", "EPR"],
        downtime_since="2026-12-01T08:00:00Z", techniques=["T1486"],
    )  # fmt: skip
    page = (await sqlite_client.get(f"{API}/{made['id']}")).json()
    assert (page["patient_impact"], page["clinical_systems"]) == ("potential", ["PACS", "EPR"])
    assert page["downtime_since"].startswith("2026-12-01T08:00")
    assert [c["clock"] for c in page["clocks"]] == ["breach", "sector"]
    assert all(not c["overdue"] and c["seconds_left"] > 0 for c in page["clocks"])
    assert len(page["tasks"]) == 6
    task = page["tasks"][0]["id"]
    done = await sqlite_client.patch(f"{API}/{made['id']}/tasks/{task}", json={"status": "done"})
    assert done.json()["tasks"][0]["status"] == "done"
    changed = await sqlite_client.patch(
        f"{API}/{made['id']}", json={"downtime_since": "2026-12-02T10:00:00Z", "tags": ["ward-7"]}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["downtime_since"][:16], changed.json()["tags"]) == (
        "2026-12-02T10:00",
        ["ward-7"],
    )
    closing = await sqlite_client.post(f"{API}/{made['id']}/status", json={"status": "closed"})
    assert closing.status_code == 400
    assert "resolution" in closing.json()["detail"]


async def test_an_attachment_round_trips_by_its_hash_and_the_cap_holds(
    sqlite_client: httpx.AsyncClient, sqlite_app: FastAPI
) -> None:
    made = await new_case(sqlite_client)
    sent = await sqlite_client.post(
        f"{API}/{made['id']}/attachments", files={"file": ("headers.eml", b"Received: from x")}
    )
    assert sent.status_code == 201, sent.text
    page = (await sqlite_client.get(f"{API}/{made['id']}")).json()
    [attachment] = page["attachments"]
    assert (attachment["name"], attachment["size"]) == ("headers.eml", 16)
    back = await sqlite_client.get(f"{API}/{made['id']}/attachments/{attachment['id']}")
    assert back.content == b"Received: from x"
    cap = sqlite_app.state.settings.cases_attachment_max_bytes
    big = await sqlite_client.post(
        f"{API}/{made['id']}/attachments", files={"file": ("big.bin", b"x" * (cap + 1))}
    )
    assert big.status_code == 413
    other = await sqlite_client.get(f"{API}/{made['id']}/attachments/{attachment['id'] + 99}")
    assert other.status_code == 404


async def test_a_lead_learns_only_how_many_others_share_an_amber_observable(
    client: httpx.AsyncClient, client_as: Any
) -> None:
    for org, tlp in (("RAL", "AMBER"), ("RJ1", "AMBER"), ("A81001", "GREEN")):
        made = await new_case(client, organisations=[org], tlp=tlp)
        added = await client.post(
            f"{API}/{made['id']}/observables", json={"kind": "domain", "value": "c2.example"}
        )
        assert added.status_code == 201
    async with client_as("lead") as lead:
        seen = (await lead.get(f"{API}/campaigns/domain/c2.example")).json()
        listed = (await lead.get(API)).json()
    national = (await client.get(f"{API}/campaigns/domain/c2.example")).json()
    assert [(a["org"], a["own"]) for a in seen["affected"]] == [("A81001", False), ("RAL", True)]
    assert seen["others"] == 1
    assert "RJ1" not in str(seen)
    assert {c["organisations"][0] for c in listed["items"]} == {"RAL"}
    assert [a["org"] for a in national["affected"]] == ["A81001", "RAL", "RJ1"]
