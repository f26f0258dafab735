"""VEX: the CISA case-8 document marks its not_affected product as not exposed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.advisories.conftest import cyclonedx, log4j_core

from bastion.advisories.exposure import import_inventory
from bastion.advisories.holdings import list_exposures
from bastion.advisories.inventory import parse_inventory
from bastion.advisories.vex import covers
from bastion.audit import Actor
from bastion.store import Store

ABC_SERIAL = "urn:uuid:cbb2cd68-2857-43b8-a10b-e8c03d277d18"
JKL_SERIAL = "urn:uuid:e4c3eedc-4978-470c-ad02-6ffff63738ff"


def _product(serial: str, ref: str, name: str, version: str) -> bytes:
    """A product's SBOM: the product is the BOM's subject and bundles log4j-core 2.14.1."""
    return cyclonedx(
        [log4j_core("2.14.1")],
        serialNumber=serial,
        metadata={
            "component": {"type": "application", "bom-ref": ref, "name": name, "version": version}
        },
    )


def _statuses(store: Store, org: str, inventory: str) -> dict[str, str]:
    with store.session() as session:
        return {
            e.vulnerability: e.status
            for e in list_exposures(session, org=org, inventory=inventory)
            if e.component == "log4j-core"
        }


def test_cisa_vex_marks_not_affected_product_not_exposed(
    log4shell: Store, shared_data: Path
) -> None:
    vex = (shared_data / "sbom" / "cisa-case8-vex.cdx.json").read_bytes()
    with log4shell.session() as session:
        import_inventory(
            session,
            "RAA",
            _product(ABC_SERIAL, "product-ABC", "ABC", "2.5"),
            "abc-2.5",
            actor=Actor.cli("test"),
        )
        import_inventory(
            session,
            "RAA",
            _product(ABC_SERIAL, "product-ABC", "ABC", "2.6"),
            "abc-2.6",
            actor=Actor.cli("test"),
        )
    before = _statuses(log4shell, "RAA", "abc-2.5")
    assert before["CVE-2021-44228"] == "affected"
    with log4shell.session() as session:
        report = import_inventory(
            session, "RAA", vex, "cisa-case8-vex.cdx.json", actor=Actor.cli("test")
        )
    assert report.vex_statements == 11
    after = _statuses(log4shell, "RAA", "abc-2.5")
    assert after["CVE-2021-44228"] == "not_affected"
    assert after["CVE-2021-45105"] == "not_affected"
    assert after["CVE-2021-45046"] == "affected"  # the VEX says nothing of it
    # ABC 2.6 is listed as affected by the same document: it stays exposed.
    assert _statuses(log4shell, "RAA", "abc-2.6")["CVE-2021-44228"] == "affected"
    with log4shell.session() as session:
        exposed = {
            (e.inventory, e.vulnerability)
            for e in list_exposures(session, org="RAA", status="affected")
        }
    assert ("abc-2.5", "CVE-2021-44228") not in exposed
    assert ("abc-2.6", "CVE-2021-44228") in exposed


def test_cisa_vex_resolved_version_is_fixed_and_affected_range_creates_exposure(
    federation: Store, shared_data: Path
) -> None:
    vex = (shared_data / "sbom" / "cisa-case8-vex.cdx.json").read_bytes()
    jkl = lambda v: cyclonedx(  # noqa: E731
        [], serialNumber=JKL_SERIAL,
        metadata={"component": {"type": "application", "bom-ref": "product-JKL", "name": "JKL", "version": v}},
    )  # fmt: skip
    with federation.session() as session:
        import_inventory(session, "RBB", jkl("4.6"), "jkl-4.6", actor=Actor.cli("test"))
        import_inventory(session, "RBB", jkl("5.1"), "jkl-5.1", actor=Actor.cli("test"))
        import_inventory(session, "RBB", vex, "vex.json", actor=Actor.cli("test"))
        found = {(e.inventory, e.vulnerability): e for e in list_exposures(session, org="RBB")}
    # 4.6 lies in the affected range >=4.5|<=5.0 of both CVEs: VEX alone makes it exposed.
    assert found[("jkl-4.6", "CVE-2021-44228")].status == "affected"
    assert found[("jkl-4.6", "CVE-2021-44228")].source == "vex:vex.json"
    # 5.1 is resolved for 44228, and listed affected for 45105.
    assert ("jkl-5.1", "CVE-2021-44228") not in found or found[
        ("jkl-5.1", "CVE-2021-44228")
    ].status != "affected"
    assert found[("jkl-5.1", "CVE-2021-45105")].status == "affected"


def test_openvex_not_affected_by_purl() -> None:
    doc = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.nhs.uk/vex/1",
        "statements": [
            {
                "vulnerability": {"name": "CVE-2021-44228"},
                "products": [{"@id": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
            }
        ],
    }
    inventory = parse_inventory(json.dumps(doc).encode(), "openvex.json")
    [statement] = inventory.vex
    assert statement.status == "not_affected"
    assert covers(statement, "2.14.1")
    assert not covers(statement, "2.15.0")


def test_openvex_applies_to_matching_purl_component(log4shell: Store) -> None:
    doc = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "statements": [
            {
                "vulnerability": "CVE-2021-45046",
                "products": ["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"],
                "status": "fixed",
            }
        ],
    }
    with log4shell.session() as session:
        import_inventory(
            session, "RCC", cyclonedx([log4j_core("2.14.1")]), "app.json", actor=Actor.cli("test")
        )
        import_inventory(
            session, "RCC", json.dumps(doc).encode(), "openvex.json", actor=Actor.cli("test")
        )
    assert _statuses(log4shell, "RCC", "app.json")["CVE-2021-45046"] == "fixed"
    assert _statuses(log4shell, "RCC", "app.json")["CVE-2021-44228"] == "affected"


def test_vex_held_before_the_advisory_applies_when_it_arrives(
    federation: Store, shared_data: Path
) -> None:
    from bastion.advisories.feeds import import_path

    vex = (shared_data / "sbom" / "cisa-case8-vex.cdx.json").read_bytes()
    with federation.session() as session:
        import_inventory(
            session,
            "RCC",
            _product(ABC_SERIAL, "product-ABC", "ABC", "2.5"),
            "abc-2.5",
            actor=Actor.cli("test"),
        )
        import_inventory(session, "RCC", vex, "vex.json", actor=Actor.cli("test"))
        import_path(session, shared_data / "intel" / "osv", actor=Actor.cli("test"))
    statuses = _statuses(federation, "RCC", "abc-2.5")
    assert statuses["CVE-2021-44228"] == "not_affected"
    assert statuses["CVE-2021-45046"] == "affected"
