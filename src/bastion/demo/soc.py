"""Demo cases: a few of the demo day's alert groups promoted to cases, worked part way.

After the labelled day is ingested, the planted Log4Shell exploitation that got
through, the phishing look-up and the C2 beacon that was let out each become a
case through the cases service (audited like an analyst's): promoted from the
attack's alert group with the matching template's tasks, then moved on, noted
and with a task or two done, so the case pages show a timeline from the start.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bastion import cases
from bastion.alerts import Alert, list_alerts
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.demo.plant import PlantedAttack


@dataclass(frozen=True)
class DemoCase:
    """How one kind of planted attack is worked in the demo."""

    kind: str
    title: str
    template: str
    status: str
    note: str
    tasks_done: int


DEMO_CASES = (
    DemoCase("log4shell", "Log4Shell exploitation of the public web server", "Log4Shell exposure",
             "containment", "JNDI lookups reached the web server; WAF rule pushed, host isolated.",
             2),
    DemoCase("phishing-dns", "Staff looked up a credential-phishing domain", "Phishing",
             "triage", "Domain resolved from a ward PC; checking proxy logs for a login.", 1),
    DemoCase("c2-beacon", "Workstation beaconing to a known C2 address", "Ransomware precursor",
             "eradication", "Beacon every 5 minutes for a day; EDR scan and reimage booked.", 2),
)  # fmt: skip


def _alert_of(attack: PlantedAttack, alerts: list[Alert]) -> Alert | None:
    """Return an alert of ``attack``'s organisation about its indicator or outside address."""
    for alert in alerts:
        about = {alert.observable, alert.indicator_value}
        if alert.org == attack.organisation and (
            (attack.indicator is not None and attack.indicator in about)
            or about & set(attack.external_ips)
        ):
            return alert
    return None


def open_demo_cases(
    session: Session, attacks: tuple[PlantedAttack, ...] | list[PlantedAttack], *, actor: Actor
) -> list[int]:
    """Promote the demo's chosen attacks' alert groups to cases and work them; return the ids."""
    national = Scope.everything()
    alerts = list_alerts(session, state="new")[0]
    opened = []
    for plan in DEMO_CASES:
        live = [a for a in attacks if a.kind == plan.kind and a.action == "allowed"]
        alert = next((found for a in live if (found := _alert_of(a, alerts))), None)
        if alert is None:
            continue
        case = cases.promote_alert(
            session, alert.id, title=plan.title, actor=actor, scope=national, template=plan.template
        )
        cases.set_status(session, case.id, plan.status, actor=actor, scope=national)
        cases.add_note(session, case.id, plan.note, actor=actor, scope=national)
        for task in cases.get_case(session, case.id, national).tasks[: plan.tasks_done]:
            cases.set_task(session, case.id, task.id, actor=actor, scope=national, status="done")
        opened.append(case.id)
    return opened
