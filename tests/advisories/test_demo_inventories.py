"""Demo inventories load through the real importer and show Log4Shell exposures."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run

from bastion.demo.federation import generate_federation
from bastion.demo.inventories import demo_inventories


def test_demo_inventories_are_deterministic_cyclonedx() -> None:
    orgs = generate_federation(seed=7, size=40)
    first, again = demo_inventories(orgs, 7), demo_inventories(orgs, 7)
    assert first == again
    assert first
    for _code, _name, data in first:
        assert json.loads(data)["specVersion"] == "1.5"


def test_inventory_demo_command_shows_exposures(bastion: Run, shared_data: Path) -> None:
    assert bastion("init").exit_code == 0
    assert bastion("demo", "federation", "--size", "40").exit_code == 0
    assert bastion("advisories", "import", str(shared_data / "intel" / "osv")).exit_code == 0
    loaded = bastion("inventory", "demo")
    assert loaded.exit_code == 0, loaded.output
    exposures = json.loads(bastion("exposures", "list", "--json").stdout)
    assert exposures
    assert {e["component"] for e in exposures} == {"log4j-core"}
    assert {e["version"] for e in exposures} <= {"2.14.1", "2.16.0"}


def test_inventory_demo_brings_its_own_vulnerabilities_when_none_are_held(bastion: Run) -> None:
    assert bastion("init").exit_code == 0
    assert bastion("demo", "federation", "--size", "40").exit_code == 0
    loaded = bastion("inventory", "demo")
    assert loaded.exit_code == 0, loaded.output
    assert "imported the demo's 9 vulnerability records" in loaded.stdout
    assert not loaded.stdout.rstrip().endswith(" 0 exposures")
    exposures = json.loads(bastion("exposures", "list", "--json").stdout)
    assert {"CVE-2021-44228", "CVE-2021-44832"} <= {e["vulnerability"] for e in exposures}
