"""Correctness on real data: Log4Shell and its follow-ups against real and small SBOMs."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.advisories.conftest import cyclonedx, log4j_core

from bastion.advisories.exposure import import_inventory
from bastion.advisories.holdings import list_exposures
from bastion.audit import Actor
from bastion.store import Store

LOG4SHELL = {"CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105"}


def _exposed(store: Store, org: str) -> set[str]:
    with store.session() as session:
        return {e.vulnerability for e in list_exposures(session, org=org, status="affected")}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.14.1", LOG4SHELL),
        ("2.16.0", {"CVE-2021-45105"}),
        ("2.17.0", set()),
        ("2.12.1", LOG4SHELL),  # the 2.12 line: fixed at 2.12.2 / 2.12.3
        ("2.12.2", {"CVE-2021-45105"}),
    ],
)
def test_log4j_core_version_exposures(log4shell: Store, version: str, expected: set[str]) -> None:
    with log4shell.session() as session:
        import_inventory(
            session,
            "RAA",
            cyclonedx([log4j_core(version)]),
            "app.cdx.json",
            actor=Actor.cli("test"),
        )
    assert _exposed(log4shell, "RAA") == expected


def test_keycloak_sbom_has_no_log4shell_exposure(log4shell: Store, shared_data: Path) -> None:
    data = (shared_data / "sbom" / "keycloak-10.0.2.cdx.json").read_bytes()
    with log4shell.session() as session:
        report = import_inventory(
            session, "RBB", data, "keycloak-10.0.2.cdx.json", actor=Actor.cli("test")
        )
    assert report.components == 904  # 903 components and the product itself
    assert report.rejected == []
    assert _exposed(log4shell, "RBB") == set()


def test_exposure_explains_itself(log4shell: Store) -> None:
    with log4shell.session() as session:
        import_inventory(
            session,
            "RAA",
            cyclonedx([log4j_core("2.14.1")]),
            "app.cdx.json",
            actor=Actor.cli("test"),
        )
        found = {e.vulnerability: e for e in list_exposures(session, org="RAA")}
    log4shell_record = found["CVE-2021-44228"]
    assert log4shell_record.component == "log4j-core"
    assert log4shell_record.version == "2.14.1"
    assert log4shell_record.range == ">=2.13.0, <2.15.0"
    assert log4shell_record.source == "osv:GHSA-jfh8-c2jp-5v3q"
    assert log4shell_record.aliases == ("GHSA-jfh8-c2jp-5v3q",)
    assert found["CVE-2021-45105"].range == ">=2.13.0, <2.17.0"


def test_new_advisory_is_matched_against_stored_inventories(
    federation: Store, shared_data: Path
) -> None:
    from bastion.advisories.exposure import match_vulnerabilities
    from bastion.advisories.importers import read_intel
    from bastion.advisories.vulnerabilities import save_records

    with federation.session() as session:
        import_inventory(
            session, "RCC", cyclonedx([log4j_core("2.16.0")]), "a.json", actor=Actor.cli("test")
        )
    assert _exposed(federation, "RCC") == set()
    with federation.session() as session:
        saved = save_records(session, read_intel(shared_data / "intel" / "osv").records)
        match_vulnerabilities(session, saved.vuln_ids)
    assert _exposed(federation, "RCC") == {"CVE-2021-45105"}


def test_reimported_inventory_replaces_its_exposures(log4shell: Store) -> None:
    with log4shell.session() as session:
        import_inventory(
            session, "RAA", cyclonedx([log4j_core("2.14.1")]), "app.json", actor=Actor.cli("test")
        )
        import_inventory(
            session, "RAA", cyclonedx([log4j_core("2.17.1")]), "app.json", actor=Actor.cli("test")
        )
    assert _exposed(log4shell, "RAA") == set()


def test_full_rematch_agrees_with_incremental_matching(log4shell: Store, shared_data: Path) -> None:
    from bastion.advisories.exposure import rematch_all

    with log4shell.session() as session:
        import_inventory(
            session, "RAA", cyclonedx([log4j_core("2.14.1")]), "a.json", actor=Actor.cli("test")
        )
        import_inventory(
            session,
            "RBB",
            cyclonedx([log4j_core("2.16.0"), log4j_core("2.12.1")]),
            "b.json",
            actor=Actor.cli("test"),
        )
        incremental = {
            (e.organisation, e.version, e.vulnerability, e.range) for e in list_exposures(session)
        }
        held = rematch_all(session, actor=Actor.cli("test"))
        full = {
            (e.organisation, e.version, e.vulnerability, e.range) for e in list_exposures(session)
        }
    assert full == incremental
    assert held == len(incremental) == 3 + 1 + 3
