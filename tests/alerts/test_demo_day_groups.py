"""The labelled demo day: every planted attack opens as one alert group per organisation,
with the verdict its label says (blocked by the device, or live)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from tests.demo.small_day import ingest_small_demo_day

from bastion import cases
from bastion.alerts import Alert, list_alerts
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.demo.beaconing import BENIGN
from bastion.demo.behaviour_hunt import hunt_demo_day
from bastion.demo.plant import PlantedAttack
from bastion.demo.soc import open_demo_cases
from bastion.demo.traffic import DEFAULT_DAY
from bastion.store import Store

pytestmark = pytest.mark.slow  # a whole demo day through the pipeline (~8 s)


def _raised_by(attack: PlantedAttack, alerts: list[Alert]) -> list[Alert]:
    """The alerts about ``attack``: its organisation's, at its host (a web server's log names
    none), about its indicator, one of its outside addresses, or the check its kind names."""
    check = f"builtin:{attack.kind}"
    mine = []
    for alert in alerts:
        if alert.org != attack.organisation or alert.host not in (attack.host_ip, None):
            continue
        about = {alert.observable, alert.indicator_value}
        if (
            (attack.indicator is not None and attack.indicator in about)
            or about & set(attack.external_ips)
            or alert.key.startswith(check)
        ):
            mine.append(alert)
    return mine


def test_every_planted_attack_is_one_group_per_organisation_with_its_verdict_and_demo_cases(
    sqlite_store: Store, tmp_path: Path
) -> None:
    manifest = ingest_small_demo_day(sqlite_store, tmp_path)
    with sqlite_store.session() as session:  # as the demo load does: hunt the day for behaviour
        hunt_demo_day(
            session, tmp_path / "data" / "archive", DEFAULT_DAY, manifest.attacks, Actor.cli("t")
        )
        alerts = list_alerts(session)[0]
    # One incident may be planted in parts (Log4Shell probes by URL and by user agent).
    incidents: dict[tuple[str, str], list[PlantedAttack]] = defaultdict(list)
    for attack in manifest.attacks:
        incidents[(attack.kind, attack.organisation)].append(attack)
    assert len(incidents) >= 10
    grouped: set[int] = set()
    for (kind, org), parts in incidents.items():
        raised = {a.id: a for part in parts for a in _raised_by(part, alerts)}.values()
        if kind == BENIGN:  # periodic, but allow-listed: no alert
            assert not raised, [a.title for a in raised]
            continue
        assert raised, f"{kind} at {org} raised no alert"
        groups = {a.group_id for a in raised}
        assert len(groups) == 1, (kind, org, [(a.key, a.group_id) for a in raised])
        wanted = "blocked" if {p.action for p in parts} == {"blocked"} else "live"
        assert {a.verdict for a in raised} == {wanted}, (kind, org, wanted)
        grouped |= groups
    # …and no group holds two planted incidents.
    assert len(grouped) == len([i for i in incidents if i[0] != BENIGN])
    # Every alert of the day belongs to one of the planted incidents' groups.
    assert {a.group_id for a in alerts} == grouped
    # The demo opens cases from three of those groups, worked part way through the service.
    with sqlite_store.session() as session:
        made = open_demo_cases(session, manifest.attacks, actor=Actor.cli("demo"))
        opened = [cases.get_case(session, n, Scope.everything()) for n in made]
    assert [c.status.value for c in opened] == ["containment", "triage", "eradication"]
    by_group = {a.id: a.group_id for a in alerts}
    for case in opened:
        assert case.alerts
        assert len({by_group[a] for a in case.alerts}) == 1  # the whole of one group
        assert sum(t.status.value == "done" for t in case.tasks) >= 1
        assert {e.kind for e in case.timeline} >= {"note", "status"}
