"""Hunt the demo day for behaviour: seed the allow-list, hunt, and score against the labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from bastion import behaviour
from bastion.audit import Actor
from bastion.behaviour import BehaviourResult
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.demo.beaconing import ALLOWED, BENIGN
from bastion.demo.plant import PlantedAttack

BEHAVIOUR_KINDS = ("beacon", "dns-tunnel")  # planted attacks only behaviour can find


@dataclass(frozen=True)
class LabelScore:
    """How the alerting results of a day compare with its labels."""

    planted: int  # attacks only behaviour can find
    found: int  # of which an alerting result names the host
    alerting: int  # results at or above the threshold, not allow-listed
    true_positives: int  # of which on a labelled attack's host
    benign_alerted: int  # of which on the benign periodic traffic's host

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.true_positives / self.alerting if self.alerting else 1.0


def seed_allow_list(session: Session, day: date, actor: Actor) -> int:
    """Add the demo's national allow-list (time server, monitoring, updates); return how many."""
    expires = max(day, utcnow().date()) + timedelta(days=365)
    for kind, value, reason in ALLOWED:
        behaviour.add_allowed(
            session, Scope.everything(), org=None, kind=kind, value=value, reason=reason,
            expires_on=expires, actor=actor,
        )  # fmt: skip
    return len(ALLOWED)


def score_labels(
    results: Sequence[BehaviourResult], attacks: Sequence[PlantedAttack], threshold: float
) -> LabelScore:
    """Compare the open results at or above ``threshold`` with the day's labelled attacks."""
    alerting = [r for r in results if r.status == "open" and r.score >= threshold]
    hosts = {(r.org, r.host) for r in alerting}
    planted = [a for a in attacks if a.kind in BEHAVIOUR_KINDS]
    attacked = {(a.organisation, a.host_ip) for a in attacks if a.kind != BENIGN}
    benign = {(a.organisation, a.host_ip) for a in attacks if a.kind == BENIGN}
    return LabelScore(
        planted=len(planted),
        found=sum((a.organisation, a.host_ip) in hosts for a in planted),
        alerting=len(alerting),
        true_positives=sum((r.org, r.host) in attacked for r in alerting),
        benign_alerted=sum((r.org, r.host) in benign for r in alerting),
    )


def hunt_demo_day(
    session: Session, archive: Path, day: date, attacks: Sequence[PlantedAttack], actor: Actor
) -> LabelScore:
    """Seed the allow-list, hunt ``day`` and score its results against the labels."""
    seed_allow_list(session, day, actor)
    behaviour.hunt_days(session, archive, [day], actor=actor)
    results, _ = behaviour.list_results(session, Scope.everything(), days=[day], limit=10_000)
    return score_labels(results, attacks, behaviour.DEFAULT_CONFIG.threshold)
