"""`/api/v1/inventories` and `/api/v1/exposures`: upload, list, show, each within the caller's scope."""

from __future__ import annotations

import pytest
from tests.web.conftest import ClientAs

from bastion import advisories as adv
from bastion.advisories.importers import parse_osv_record
from bastion.advisories.vulns import ImportResult
from bastion.audit import Actor
from bastion.demo.national import lead_sbom
from bastion.demo.vulnerabilities import DEMO_OSV_RECORDS
from bastion.store import Store

pytestmark = pytest.mark.anyio


@pytest.fixture
def vulnerabilities(app: object, store: Store) -> None:
    with store.session() as session:
        records = [parse_osv_record(doc) for doc in DEMO_OSV_RECORDS]
        adv.import_intel(session, ImportResult("osv", records=records), "t", actor=Actor.cli("t"))


async def test_a_lead_uploads_an_sbom_and_sees_only_its_own_holdings(
    client_as: ClientAs, vulnerabilities: None
) -> None:
    async with client_as("admin") as admin:
        other = await admin.post(
            "/api/v1/inventories/RJ1", files={"file": ("rj1.cdx.json", lead_sbom("RJ1"))}
        )
    async with client_as("lead") as lead:
        made = await lead.post(
            "/api/v1/inventories/RAL",
            files={"file": ("ehr.cdx.json", lead_sbom("RAL"))},
            data={"name": "ehr"},
        )
        inventories = (await lead.get("/api/v1/inventories")).json()
        shown = await lead.get("/api/v1/inventories/RAL/ehr")
        hidden = await lead.get("/api/v1/inventories/RJ1/rj1.cdx.json")
        exposures = (await lead.get("/api/v1/exposures")).json()
        log4shell = (await lead.get("/api/v1/exposures/CVE-2021-44228")).json()
        by_ghsa = (await lead.get("/api/v1/exposures/GHSA-jfh8-c2jp-5v3q")).json()
        unknown = await lead.get("/api/v1/exposures/CVE-1999-0001")
        bad_status = await lead.get("/api/v1/exposures", params={"status": "maybe"})
        not_an_sbom = await lead.post("/api/v1/inventories/RAL", files={"file": ("x.json", b"{}")})
    assert other.status_code == 201
    assert made.status_code == 201, made.text
    assert made.json()["exposures"] >= 4  # log4j-core 2.14.1 and commons-text 1.9
    assert [(i["organisation"], i["name"]) for i in inventories] == [("RAL", "ehr")]
    assert shown.status_code == 200
    assert shown.json()["inventory"]["components"] == 4  # three libraries and the application
    assert {c["name"] for c in shown.json()["components"]} >= {"log4j-core", "commons-text"}
    assert hidden.status_code == 404
    assert {e["organisation"] for e in exposures} == {"RAL"}
    found = {(e["vulnerability"], e["component"], e["version"], e["status"]) for e in exposures}
    assert ("CVE-2021-44228", "log4j-core", "2.14.1", "affected") in found
    assert ("CVE-2022-42889", "commons-text", "1.9", "affected") in found
    assert [e["organisation"] for e in log4shell["exposures"]] == ["RAL"]
    assert "GHSA-jfh8-c2jp-5v3q" in log4shell["aliases"]
    assert by_ghsa["vulnerability"] == "CVE-2021-44228"
    assert unknown.status_code == 404
    assert "bastion" not in unknown.json()["detail"]
    assert bad_status.status_code == 400
    assert 400 <= not_an_sbom.status_code < 500


async def test_exposures_name_the_national_alerts_that_cite_them(
    client_as: ClientAs, vulnerabilities: None, store: Store
) -> None:
    with store.session() as session:
        adv.import_inventory(session, "RAL", lead_sbom("RAL"), "app", actor=Actor.cli("t"))
    async with client_as("analyst") as analyst:
        ref = (
            await analyst.post(
                "/api/v1/advisories",
                json={"title": "Log4Shell", "severity": "low", "cves": ["CVE-2021-44228"]},
            )
        ).json()["ref"]
        exposures = (await analyst.get("/api/v1/exposures", params={"org": "RAL"})).json()
        listed = (await analyst.get("/exposures")).text
    cited = {e["vulnerability"]: e["advisories"] for e in exposures}
    assert cited["CVE-2021-44228"] == [ref]
    assert cited["CVE-2022-42889"] == []
    assert f'href="/advisories/{ref}"' in listed
    async with client_as("lead") as lead:  # a draft reaches nobody: the lead is not told of it
        theirs = (await lead.get("/api/v1/exposures")).json()
    assert all(e["advisories"] == [] for e in theirs)
