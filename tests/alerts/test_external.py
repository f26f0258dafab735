from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.alerts.test_store import T0, hits
from typer.testing import Result

from bastion import orgs
from bastion.alerts import list_alerts, record_alerts
from bastion.alerts.external import defender_alerts, raise_external
from bastion.audit import Actor
from bastion.core.errors import InputError
from bastion.store import Store

DEVICE = "10.9.0.5"
C2 = "203.0.113.9"


def graph_document() -> dict[str, object]:
    """A Graph security alerts_v2 answer: by device IP, by host-name suffix, and unknown."""
    created = (T0.replace(minute=10)).isoformat().replace("+00:00", "Z")

    def alert(ref: str, severity: str, *evidence: dict[str, object]) -> dict[str, object]:
        return {
            "id": ref,
            "title": f"Suspicious connection {ref}",
            "severity": severity,
            "createdDateTime": created,
            "evidence": list(evidence),
        }

    device = {
        "@odata.type": "#microsoft.graph.security.deviceEvidence",
        "deviceDnsName": "pc-1.raa.example",
        "ipInterfaces": [DEVICE],
    }
    remote = {"@odata.type": "#microsoft.graph.security.ipEvidence", "ipAddress": C2}
    by_name = {
        "@odata.type": "#microsoft.graph.security.deviceEvidence",
        "deviceDnsName": "ward-7.clinic.raa.example",
    }
    return {
        "value": [
            alert("da-1", "high", device, remote),
            alert("da-2", "unknown", by_name),
            alert("da-3", "low", {"@odata.type": "#microsoft.graph.security.ipEvidence"}),
        ]
    }


def _federation(store: Store) -> None:
    with store.session() as session:
        orgs.save_organisation(
            session,
            orgs.Organisation(
                "RAA",
                "Alpha Trust",
                orgs.OrgType.TRUST,
                networks=("10.9.0.0/16",),
                hosts=(orgs.Host("clinic.raa.example"),),
            ),
            actor=Actor.cli("test"),
        )


def test_defender_alerts_are_attributed_mapped_deduplicated_and_grouped(store: Store) -> None:
    _federation(store)
    with store.session() as session:  # the boundary saw the same host talk to the same C2
        record_alerts(session, hits(0, **{"organization.id": "RAA", "host.ip": DEVICE}))
        report = raise_external(session, defender_alerts(graph_document()))
    assert (report.read, report.created, report.duplicates, report.unattributed) == (3, 3, 0, 1)
    with store.session() as session:
        again = raise_external(session, defender_alerts(graph_document()))
        found = {a.source_ref or a.key: a for a in list_alerts(session)[0]}
    assert (again.created, again.duplicates) == (0, 3)
    assert (found["da-1"].org, found["da-1"].host, found["da-1"].severity.value) == (
        "RAA",
        DEVICE,
        "high",
    )
    assert (found["da-2"].org, found["da-2"].severity.value) == ("RAA", "medium")
    assert found["da-3"].org is None
    assert found["da-1"].kind.value == "external"
    # one incident: the indicator alert and the Defender alert share a group
    assert found["da-1"].group_id == found["ind-42"].group_id


def test_a_document_that_is_not_alerts_v2_is_refused() -> None:
    with pytest.raises(InputError, match='"value"'):
        defender_alerts({"alerts": []})
    with pytest.raises(InputError, match="id and a title"):
        defender_alerts({"value": [{"title": "x"}]})


def test_import_defender_from_the_command_line(
    bastion: Callable[..., Result], tmp_path: Path
) -> None:
    assert bastion("init").exit_code == 0
    sample = tmp_path / "defender.json"
    sample.write_text(json.dumps(graph_document()))
    first = bastion("alerts", "import-defender", str(sample))
    assert first.stdout.strip() == (
        "read 3 Defender alert(s): 3 new, 0 already stored, 3 unattributed"
    )
    again = bastion("alerts", "import-defender", str(sample))
    assert "0 new, 3 already stored" in again.stdout
    (tmp_path / "bad.json").write_text("{")
    bad = bastion("alerts", "import-defender", str(tmp_path / "bad.json"))
    assert bad.exit_code != 0
    assert "not a readable JSON file" in bad.stderr
