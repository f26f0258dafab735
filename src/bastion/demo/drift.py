"""The demo's planted contradictions: published returns that Bastion's own evidence denies.

`bastion init --demo` calls `plant_demo_drift` once, after the scan of the loopback
lab, so the console opens with drift flags that come from real telemetry:

* the lab's Riverside Surgery (RDP and Redis open to the internet, an expired
  certificate) publishes a Cyber Essentials return claiming every control met,
  firewalls included, and a DSPT return claiming every item met (9.1: inbound
  connections not needed are blocked; 9.3: internet-facing findings fixed);
* the lab's Hillside Medical Centre (a 1,024-bit key; ``.git``, ``.env`` and a
  vulnerable Apache served from its web servers) publishes a DSPT return claiming
  every item met (9.3).

Then drift detection runs over those organisations through the assurance service:
each return shows its flags, and each organisation (and the national team) gets an
alert. Everything goes through the services and is audited like any other change.
"""

from __future__ import annotations

from bastion import assure
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.store import Store

PERIOD = "2024-25"
PLANTED = (  # (organisation, framework, what its return claims that the scan contradicts)
    ("F83LAB1", "cyber-essentials", "no remote administration service is exposed"),
    ("F83LAB1", "dspt", "inbound connections not needed are blocked"),
    ("F83LAB2", "dspt", "internet-facing findings are fixed"),
)


def plant_demo_drift(store: Store, actor: Actor) -> str:
    """Publish the planted returns claiming everything met, detect drift; say what was flagged."""
    everything = Scope.everything()
    with store.session() as session:
        for org, framework, claim in PLANTED:
            made = assure.open_return(
                session, org, PERIOD, framework, actor=actor, scope=everything
            )
            answers = {s.id: True for o in made.outcomes for s in o.statements}
            first = made.outcomes[0].statements[0].id
            assure.update_return(session, made.id, actor=actor, scope=everything, answers=answers,
                                 comments={first: {"text": f"Self-assessed: {claim}."}})  # fmt: skip
            assure.publish(session, made.id, actor=actor, scope=everything)
        flags = assure.detect_drift(
            session, actor=actor, scope=everything, orgs=sorted({o for o, *_ in PLANTED})
        )
    flagged = sorted({f"{f.org} {f.framework.partition('@')[0]} {f.outcome}" for f in flags})
    return f"planted {len(PLANTED)} contradicted returns: {len(flags)} drift flags ({'; '.join(flagged)})"
