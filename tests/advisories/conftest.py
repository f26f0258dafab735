"""Shared fixtures: organisations with contacts, and the real Log4Shell records."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.advisories.smtp import smtp_server  # noqa: F401  (a fixture for every test here)

from bastion import orgs
from bastion.advisories.exposure import match_vulnerabilities
from bastion.advisories.importers import read_intel
from bastion.advisories.vulnerabilities import save_records
from bastion.audit import Actor
from bastion.store import Store


def cyclonedx(components: list[dict[str, str]], *, spec: str = "1.4", **extra: object) -> bytes:
    """A small CycloneDX JSON BOM with ``components``."""
    import json

    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": spec,
            "version": 1,
            "components": components,
            **extra,
        }
    ).encode()


def log4j_core(version: str) -> dict[str, str]:
    return {
        "type": "library",
        "bom-ref": f"log4j-core-{version}",
        "group": "org.apache.logging.log4j",
        "name": "log4j-core",
        "version": version,
        "purl": f"pkg:maven/org.apache.logging.log4j/log4j-core@{version}?type=jar",
    }


@pytest.fixture
def federation(store: Store) -> Store:
    """Three trusts with security contacts."""
    with store.session() as session:
        for code, name in [("RAA", "Alpha Trust"), ("RBB", "Beta Trust"), ("RCC", "Gamma Trust")]:
            orgs.save_organisation(
                session,
                orgs.Organisation(
                    code=code,
                    name=name,
                    type=orgs.OrgType.TRUST,
                    contacts=(orgs.Contact(f"{name} lead", f"security@{code.lower()}.nhs.uk"),),
                ),
                actor=Actor.cli("test"),
            )
    return store


@pytest.fixture
def log4shell(federation: Store, shared_data: Path) -> Store:
    """The federation with the real Log4Shell OSV records imported."""
    with federation.session() as session:
        saved = save_records(session, read_intel(shared_data / "intel" / "osv").records)
        match_vulnerabilities(session, saved.vuln_ids)
    return federation
