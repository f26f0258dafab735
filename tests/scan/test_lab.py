"""Against the scan lab: every planted weakness is found with its severity, nothing on good hosts."""

from __future__ import annotations

from bastion import scan
from bastion.core.scope import Scope
from bastion.demo.scanlab import Lab
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
