"""The CLI end to end: import intelligence and SBOMs, list exposures, run an alert to closure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.advisories.conftest import cyclonedx, log4j_core
from tests.advisories.smtp import Mailbox
from tests.conftest import Run

from bastion.advisories.notify import SmtpConfig


@pytest.fixture
def federation_cli(bastion: Run, shared_data: Path, tmp_path: Path) -> Run:
    assert bastion("init").exit_code == 0
    for code, name in [("RAA", "Alpha Trust"), ("RBB", "Beta Trust")]:
        assert bastion("orgs", "add", code, name, "--type", "trust").exit_code == 0
        assert (
            bastion(
                "orgs", "add-contact", code, "Lead", f"security@{code.lower()}.nhs.uk"
            ).exit_code
            == 0
        )
    imported = bastion("advisories", "import", str(shared_data / "intel" / "osv"), "--json")
    assert imported.exit_code == 0, imported.output
    assert [(r["format"], r["records"]) for r in json.loads(imported.stdout)] == [("osv", 3)]
    return bastion


def test_inventory_and_exposures_list_json(
    federation_cli: Run, shared_data: Path, tmp_path: Path
) -> None:
    kev = federation_cli(
        "advisories", "import", str(shared_data / "intel" / "cisa-kev-2025-08-25.json")
    )
    assert kev.exit_code == 0
    assert "1404 records (1402 new, 2 updated)" in kev.stdout
    sbom = tmp_path / "pas.cdx.json"
    sbom.write_bytes(cyclonedx([log4j_core("2.14.1")]))
    result = federation_cli("inventory", "import", "RAA", str(sbom), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["exposures"] == 3
    keycloak = federation_cli(
        "inventory", "import", "RBB", str(shared_data / "sbom" / "keycloak-10.0.2.cdx.json")
    )
    assert keycloak.exit_code == 0
    assert "904 components, 0 rejected" in keycloak.stdout
    listed = json.loads(federation_cli("exposures", "list", "--json").stdout)
    assert sorted((e["organisation"], e["vulnerability"]) for e in listed) == [
        ("RAA", "CVE-2021-44228"),
        ("RAA", "CVE-2021-45046"),
        ("RAA", "CVE-2021-45105"),
    ]
    only_rbb = json.loads(federation_cli("exposures", "list", "--org", "RBB", "--json").stdout)
    assert only_rbb == []
    shown = json.loads(federation_cli("advisories", "show", "GHSA-jfh8-c2jp-5v3q", "--json").stdout)
    assert shown["key"] == "CVE-2021-44228"
    assert shown["kev_due_date"] == "2021-12-24"


def test_bad_sbom_is_one_line_error(federation_cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.9", "components": []}')
    result = federation_cli("inventory", "import", "RAA", str(bad))
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [
        "bastion: error: bad.json, field 'specVersion': unknown CycloneDX spec version '1.9'; supported: 1.2, 1.3, 1.4, 1.5, 1.6"
    ]


def test_alert_to_closure_through_the_cli(
    federation_cli: Run,
    tmp_path: Path,
    smtp_server: tuple[SmtpConfig, Mailbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp, mailbox = smtp_server
    monkeypatch.setenv("BASTION_SMTP_HOST", smtp.host)
    monkeypatch.setenv("BASTION_SMTP_PORT", str(smtp.port))
    for code, version in [("RAA", "2.14.1"), ("RBB", "2.16.0")]:
        sbom = tmp_path / f"{code}.json"
        sbom.write_bytes(cyclonedx([log4j_core(version)]))
        assert federation_cli("inventory", "import", code, str(sbom)).exit_code == 0
    drafted = federation_cli(
        "advisories", "draft", "--title", "Log4Shell", "--severity", "high",
        "--cve", "CVE-2021-44228", "--cve", "CVE-2021-45105", "--remediation", "Upgrade to 2.17.1",
        "--by", "analyst", "--json",
    )  # fmt: skip
    assert drafted.exit_code == 0, drafted.output
    assert json.loads(drafted.stdout)["ref"] == "CC-0001"
    targets = json.loads(federation_cli("advisories", "preview", "CC-0001", "--json").stdout)
    assert [t["organisation"] for t in targets] == ["RAA", "RBB"]
    published = json.loads(
        federation_cli("advisories", "publish", "CC-0001", "--by", "analyst", "--json").stdout
    )
    assert published["emails_sent"] == 2
    assert len(mailbox.messages) == 2
    steps = [
        ("respond", "ack", "CC-0001", "--org", "RAA", "--org", "RBB", "--by", "lead"),
        (
            "respond",
            "applicability",
            "CC-0001",
            "applicable",
            "--org",
            "RAA",
            "--org",
            "RBB",
            "--by",
            "lead",
        ),
        (
            "respond",
            "action",
            "CC-0001",
            "Upgrade log4j",
            "--org",
            "RAA",
            "--next-update",
            "2030-01-01",
        ),
        ("respond", "update", "1", "Done", "--status", "done"),
        ("respond", "close", "CC-0001", "--org", "RAA"),
        (
            "revise",
            "CC-0001",
            "--note",
            "2.16.0 is not enough",
            "--remediation",
            "Upgrade to 2.17.1 or later",
        ),
    ]
    for step in steps:
        result = federation_cli("advisories", *step)
        assert result.exit_code == 0, (step, result.output)
    assert len(mailbox.messages) == 4  # the revision reached both again
    [view] = json.loads(federation_cli("advisories", "view", "--json").stdout)
    assert {k: view[k] for k in ("affected", "acknowledged", "applicable", "remediated", "closed", "version")} == {
        "affected": 2, "acknowledged": 2, "applicable": 2, "remediated": 1, "closed": 1, "version": 2,
    }  # fmt: skip
    responses = json.loads(
        federation_cli("advisories", "respond", "list", "CC-0001", "--json").stdout
    )
    assert [r["status"] for r in responses] == ["closed", "open"]
    org = json.loads(federation_cli("advisories", "org-view", "RBB", "--json").stdout)
    assert org["open_alerts"] == ["CC-0001"]
    trail = json.loads(
        federation_cli("audit", "list", "--action", "advisory.acknowledge", "--json").stdout
    )
    # Both organisations acknowledged in one command: one event, by the --by name.
    assert [(t["actor"], t["org"], sorted(t["after"])) for t in trail] == [
        ("cli:lead", None, ["RAA", "RBB"])
    ]
    assert json.loads(federation_cli("advisories", "overdue", "--json").stdout) == []
    missing = federation_cli("advisories", "respond", "ack", "CC-0042", "--org", "RAA")
    assert missing.exit_code != 0
    assert missing.stderr.strip() == "bastion: error: no alert 'CC-0042'"
