"""Against the scan lab: every planted weakness is found with its severity, nothing on good hosts."""

from __future__ import annotations

from bastion import scan
from bastion.core.scope import Scope
from bastion.demo.scanlab import DKIM_SELECTORS, Lab
from bastion.store import Store


def _found(store: Store) -> dict[str, set[tuple[str, str, str]]]:
    with store.session() as session:
        findings, _ = scan.list_findings(session, Scope.everything())
    by_host: dict[str, set[tuple[str, str, str]]] = {}
    for f in findings:
        by_host.setdefault(f.host, set()).add((f.check, f.detail, f.severity.value))
    return by_host


def test_every_planted_weakness_is_found_with_its_severity(
    first_scan: scan.ScanReport, lab: Lab, lab_store: Store
) -> None:
    found = _found(lab_store)
    for host in lab.hosts:
        label = f"{host.org} {host.hostname}"
        why = (host.hostname, first_scan.errors.get(label), first_scan.results.get(label))
        assert found.get(host.hostname, set()) == set(host.planted), why


def test_every_lab_finding_has_its_remediation_written_out(
    first_scan: scan.ScanReport, lab_store: Store
) -> None:
    with lab_store.session() as session:
        findings, _ = scan.list_findings(session, Scope.everything())
    assert {f.remediation for f in findings} >= {"tls_mozilla", "mail_dkim"}
    for finding in findings:
        text = scan.remediation_text(finding)
        where = [finding.host, *(w.rsplit(":", 1)[0] for w in finding.seen_at)]
        assert any(w in text for w in where), (finding.check, finding.detail)
        assert "What to do" in text or "what to do" in text.lower(), finding.remediation


def test_the_report_names_the_registered_dkim_selectors(
    first_scan: scan.ScanReport, lab_store: Store
) -> None:
    with lab_store.session() as session:
        hillside = scan.organisation_report(session, Scope.everything(), "F83LAB2")
        riverside = scan.organisation_report(session, Scope.everything(), "F83LAB1")
    assert hillside["dkim_selectors"] == list(DKIM_SELECTORS["F83LAB2"])
    assert riverside["dkim_selectors"] == []
