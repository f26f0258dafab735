"""A national cyber alert left unacknowledged past 48 hours contradicts a published DSPT 6.2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.advisories.smtp import Mailbox
from tests.advisories.smtp import smtp_server as smtp_server  # a fixture
from tests.assure.conftest import ACTOR, EVERYTHING

from bastion import advisories as adv
from bastion.assure.drift import detect_drift
from bastion.assure.providers import advisory_response
from bastion.assure.returns import open_return, publish, update_return
from bastion.core.delivery import SmtpConfig
from bastion.store import Store

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _alert(store: Store, smtp: SmtpConfig) -> str:
    content = adv.AlertContent(
        title="Remote code execution in a VPN appliance", severity=adv.AlertSeverity.HIGH,
        summary="Patch now.", affected_products="VPN 9.1", remediation="Upgrade to 9.2.", cves=(),
    )  # fmt: skip
    with store.session() as session:
        ref = adv.draft_alert(session, content, author=ACTOR, organisations=("RAL", "RKE")).ref
        adv.publish(session, ref, actor=ACTOR, policy=adv.Policy(), smtp=smtp, now=T0)
        adv.acknowledge(session, ref, ["RKE"], actor=ACTOR, now=T0 + timedelta(hours=5))
    return ref


def test_unacknowledged_past_48_hours_is_drift_acknowledged_in_time_is_met(
    federation: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    _alert(federation, smtp_server[0])
    with federation.session() as session:
        [early] = advisory_response(session, "RAL", T0 + timedelta(hours=47))
        [late] = advisory_response(session, "RAL", T0 + timedelta(hours=49))
        [answered] = advisory_response(session, "RKE", T0 + timedelta(hours=49))
    assert (early.met, early.drift) == (True, False)
    assert (late.met, late.drift) == (False, True)
    assert (
        "0/1 national cyber alerts acknowledged within 48 h, 1 still unacknowledged" in late.summary
    )
    assert (answered.met, answered.drift) == (True, False)


def test_a_published_dspt_claim_is_flagged_when_the_alert_goes_unanswered(
    federation: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    _alert(federation, smtp_server[0])
    with federation.session() as session:
        dspt = open_return(session, "RAL", "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
        everything = {s.id: True for o in dspt.outcomes for s in o.statements}
        update_return(session, dspt.id, actor=ACTOR, scope=EVERYTHING, answers=everything)
        publish(session, dspt.id, actor=ACTOR, scope=EVERYTHING, now=T0)
        flags = detect_drift(session, actor=ACTOR, scope=EVERYTHING, now=T0 + timedelta(days=3))
    assert [(f.org, f.outcome, f.statement, f.provider) for f in flags] == [
        ("RAL", "6", "6.2", "advisories")
    ]
