"""ROBOT and Mozilla's intermediate profile, as sslyze judges them against the lab's TLS servers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.scan.robot_server import RobotServer

from bastion import scan
from bastion.core.types import Severity
from bastion.demo.scanlab import Lab
from bastion.demo.scanlab.certs import LabCa
from bastion.scan.checks import Service, tls
from bastion.scan.checks.base import Probe
from bastion.scan.checks.tlsgrade import TlsFacts, grade
from bastion.scan.politeness import LocalLimiter


def _tls_ports(report: scan.ScanReport, lab: Lab, name: str) -> list[dict[str, Any]]:
    host = lab.host(name)
    return list(report.results[f"{host.org} {host.hostname}"]["tls"]["ports"])


def test_robot_plugin_runs_and_judges_the_lab_servers(
    first_scan: scan.ScanReport, lab: Lab
) -> None:
    # The good servers offer no RSA key exchange: there is nothing for an oracle to answer.
    assert {p["robot"] for p in _tls_ports(first_scan, lab, "good.riverside")} == {
        "NOT_VULNERABLE_RSA_NOT_SUPPORTED"
    }
    # The TLS 1.0 server accepts RSA key exchange, so sslyze sent its malformed
    # ClientKeyExchange messages and saw one answer to all of them: no oracle.
    assert {p["robot"] for p in _tls_ports(first_scan, lab, "legacy.hillside")} == {
        "NOT_VULNERABLE_NO_ORACLE"
    }


def test_good_servers_meet_mozilla_intermediate_and_compat_fails_rule_by_rule(
    first_scan: scan.ScanReport, lab: Lab
) -> None:
    for name in ("good.riverside", "intranet.riverside", "git.hillside", "portal.riverside"):
        for port in _tls_ports(first_scan, lab, name):
            assert (port["error"], port["mozilla_intermediate_failures"]) == (None, {})
    (compat,) = [p for p in _tls_ports(first_scan, lab, "compat.hillside") if not p["error"]]
    failures = compat["mozilla_intermediate_failures"]
    assert set(failures) == {"ciphers", "tls_curves", "maximum_certificate_lifespan", "ocsp_staple"}
    assert "ocsp.lab.test" in failures["ocsp_staple"]
    assert "X448" in failures["tls_curves"] or "secp521r1" in failures["tls_curves"]
    # The weak key's rule stays listed but is reported once, by its own weak-key finding.
    (weak,) = [p for p in _tls_ports(first_scan, lab, "weakkey.hillside") if not p["error"]]
    assert "rsa_key_size" in weak["mozilla_intermediate_failures"]


def _port(**changes: Any) -> tls.TlsPort:
    base = tls.TlsPort(
        443, None, ("TLS 1.2",), ("ECDHE-RSA-AES128-GCM-SHA256",), trusted=True,
        key_type="RSA", key_bits=2048, days_left=80, robot="NOT_VULNERABLE_NO_ORACLE",
    )  # fmt: skip
    return tls.TlsPort(**{**base.__dict__, **changes})


def test_a_robot_oracle_is_a_finding_with_its_severity_and_caps_the_grade() -> None:
    def observed(port: tls.TlsPort) -> dict[str, Severity]:
        found = tls.observe(tls.TlsResult((port,)), None, None)  # type: ignore[arg-type]
        return {o.detail: o.severity for o in found}

    assert observed(_port()) == {}
    assert observed(_port(robot="VULNERABLE_STRONG_ORACLE")) == {"robot": Severity.HIGH}
    assert observed(_port(robot="VULNERABLE_WEAK_ORACLE")) == {"robot": Severity.MEDIUM}
    assert observed(_port(robot="UNKNOWN_INCONSISTENT_RESULTS")) == {}
    facts = TlsFacts(
        ("TLS 1.2", "TLS 1.3"), ("TLS_AES_128_GCM_SHA256",), False, False, True, True,
        "RSA", 2048, "sha256", False, False, robot=True,
    )  # fmt: skip
    assert grade(facts) == ("F", ["vulnerable to ROBOT"])


def test_mozilla_rules_reported_elsewhere_are_not_findings_twice() -> None:
    failures = {"rsa_key_size": "RSA key size is 1024", "dh_param_size": "DH is 1024"}
    found = tls.observe(
        tls.TlsResult((_port(mozilla_intermediate_failures=failures),)),
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
    )
    assert [(o.detail, o.severity) for o in found] == [("mozilla:dh_param_size", Severity.MEDIUM)]
    assert "DH is 1024" in scan.remediation_text(
        scan.Finding(
            1,
            "X",
            "h",
            443,
            "tls",
            "mozilla:dh_param_size",
            "t",
            Severity.MEDIUM,
            scan.Status.OPEN,
            found[0].remediation,
            found[0].params,
            {},
            (),
            *[None] * 3,  # type: ignore[arg-type]
        )
    )


@pytest.mark.parametrize(
    ("leaky", "verdict"), [(True, "VULNERABLE_STRONG_ORACLE"), (False, "NOT_VULNERABLE_NO_ORACLE")]
)
def test_robot_finds_the_oracle_of_a_leaky_server_and_none_in_the_fixed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, leaky: bool, verdict: str
) -> None:
    ca = LabCa(tmp_path)
    files = ca.leaf("robot", "robot.lab.test")
    server = RobotServer(files.cert, files.key, monkeypatch, leaky=leaky)
    target = scan.Target("X", "robot.lab.test", "127.0.0.1", "robot.lab.test")
    config = scan.ScanConfig(ports=(server.port,), trust_ca_file=ca.ca_file)
    probe = Probe(
        target, config, LocalLimiter(config.rates),
        services={server.port: Service(server.port, "http", tls=True)},
    )  # fmt: skip
    try:
        result = asyncio.run(tls.run(probe))
    finally:
        server.close()
    (port,) = result.ports
    assert port.error is None
    assert port.robot == verdict
    found = {o.detail: o.severity for o in tls.observe(result, probe, None)}  # type: ignore[arg-type]
    assert found.get("robot") == (Severity.HIGH if leaky else None)
    assert ("vulnerable to ROBOT" in port.grade_reasons) is leaky
