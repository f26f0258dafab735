"""Case statistics summed by the database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

from tests.cases.conftest import ACTOR, T0

from bastion import cases, orgs
from bastion.core.scope import Scope
from bastion.store import Store

NATIONAL = Scope.everything()
HOUR = timedelta(hours=1)


def test_times_by_severity_organisation_and_day_of_the_period_cases(store: Store) -> None:
    with store.session() as session:
        for code in ("RAL", "RJ1", "RKE"):
            orgs.save_organisation(session, orgs.Organisation(code, code, orgs.OrgType.TRUST),
                                   actor=ACTOR)  # fmt: skip
        made = [
            cases.create_case(session, cases.CaseDraft(title=f"case {n}", organisations=codes,
                              severity=severity), actor=ACTOR, scope=NATIONAL, now=T0 + n * HOUR)
            for n, (codes, severity) in enumerate((
                (("RAL", "RJ1"), "high"), (("RJ1",), "high"), (("RKE",), "low"),
            ))
        ]  # fmt: skip
        for case, ack, close in ((made[0], 2, 5), (made[1], 3, None)):
            cases.set_status(session, case.id, "triage", actor=ACTOR, scope=NATIONAL,
                             now=T0 + ack * HOUR)  # fmt: skip
            if close:
                cases.set_status(session, case.id, "closed", actor=ACTOR, scope=NATIONAL,
                                 resolution="done", now=T0 + timedelta(days=1, hours=close))  # fmt: skip
        since, now = T0 - timedelta(days=1), T0 + timedelta(days=2)
        every = cases.case_stats(session, NATIONAL, since=since, now=now)
        page = cases.case_stats(session, NATIONAL, since=since, now=now, organisations=(0, 1))
        mine = cases.case_stats(session, Scope.of(["RJ1"]), since=since, now=now)
    assert (every.overall.cases, every.overall.acknowledged, every.overall.closed) == (3, 2, 1)
    assert every.overall.mtta_seconds == 7200  # two hours each
    assert every.overall.mttr_seconds == (29 * 3600)
    high = every.by_severity[1]
    assert (high.key, high.cases, high.mtta_seconds) == ("high", 2, 7200)
    assert [(o.key, o.cases) for o in every.by_organisation] == [("RAL", 1), ("RJ1", 2), ("RKE", 1)]
    assert ([(o.key, o.cases) for o in page.by_organisation], page.organisations) == (
        [("RJ1", 2)],
        3,
    )
    assert [(d.day, d.opened, d.closed) for d in every.days if d.opened or d.closed] == [
        (T0.date(), 3, 0),
        ((T0 + timedelta(days=1)).date(), 0, 1),
    ]
    assert (mine.overall.cases, mine.organisations) == (2, 1)  # RJ1's two
