"""The cases service: one audit event per change, tenancy, promotion, merges, clocks, stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from tests.cases.conftest import ACTOR, BAD_IP, T0, indicator_hit

from bastion import audit, cases
from bastion.alerts import list_alerts, record_alerts
from bastion.alerts.triage import acknowledge
from bastion.boundary.archive import write_batch
from bastion.core.errors import (
    ConflictError,
    InputError,
    LimitExceeded,
    NotFoundError,
    PermissionDenied,
)
from bastion.core.scope import Scope
from bastion.store import Store

NATIONAL = Scope.everything()


def trail(store: Store, action: str) -> list[audit.AuditEvent]:
    with store.session() as session:
        return audit.list_events(session, action=action)[0]


def new_case(store: Store, org: str = "RAL", **fields: object) -> cases.Case:
    draft = cases.CaseDraft(title="Suspicious beacon", organisations=(org,), **fields)  # type: ignore[arg-type]
    with store.session() as session:
        return cases.create_case(session, draft, actor=ACTOR, scope=NATIONAL, now=T0)


def test_a_case_from_a_template_starts_with_its_tasks_and_one_audit_event(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    made = new_case(sqlite_store, template="Phishing", techniques=("t1566.001",), tags=("Email",))
    with sqlite_store.session() as session:
        case = cases.get_case(session, made.id, NATIONAL)
    assert [t.title for t in case.tasks] == list(cases.TEMPLATES["Phishing"])
    assert {t.status for t in case.tasks} == {cases.TaskStatus.TODO}
    assert case.techniques == ("T1566.001",)
    assert case.tags == ("email",)
    assert case.status is cases.CaseStatus.OPEN
    [event] = trail(sqlite_store, "case.create")
    assert (event.target, event.org, event.actor) == (f"case:{made.id}", "RAL", "cli:analyst")


@pytest.mark.parametrize(
    ("field", "value"),
    [("techniques", ("T12345",)), ("severity", "urgent"), ("tlp", "PINK"), ("template", "Nope")],
)
def test_bad_case_fields_are_refused_with_the_valid_choices(
    sqlite_store: Store, federation: dict[str, int], field: str, value: object
) -> None:
    with pytest.raises(InputError):
        new_case(sqlite_store, **{field: value})
    assert trail(sqlite_store, "case.") == []


def test_promoting_an_alert_takes_its_organisation_severity_and_indicator(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    with sqlite_store.session() as session:
        made = cases.promote_alert(
            session, federation["RJ1"], title=None, actor=ACTOR, scope=NATIONAL
        )
        case = cases.get_case(session, made.id, NATIONAL)
    assert case.organisations == ("RJ1",)
    assert case.severity is cases.CaseSeverity.HIGH
    assert case.alerts == (federation["RJ1"],)
    [observable] = case.observables
    assert (observable.kind.value, observable.value) == ("ip", BAD_IP)
    assert observable.intel == f"/intel/indicators/ipv4:{BAD_IP}"
    assert observable.sightings == 3  # one alert at each trust, nationally
    assert [e.kind for e in case.timeline] == ["status", "alert"]
    # An alert belongs to one case: promoting it again is a conflict.
    with sqlite_store.session() as session, pytest.raises(ConflictError, match="is in case"):
        cases.promote_alert(session, federation["RJ1"], title="again", actor=ACTOR, scope=NATIONAL)


def test_a_member_sees_only_its_own_cases_and_alerts(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    theirs = new_case(sqlite_store, "RJ1")
    mine = new_case(sqlite_store, "RAL")
    member = Scope.of(["RAL"])
    with sqlite_store.session() as session:
        listed, total = cases.list_cases(session, member)
        assert ([c.id for c in listed], total) == ([mine.id], 1)
        with pytest.raises(NotFoundError):
            cases.get_case(session, theirs.id, member)
        with pytest.raises(NotFoundError):  # another tenant's alert cannot be merged in either
            cases.merge_alert(session, mine.id, federation["RJ1"], actor=ACTOR, scope=member)
        with pytest.raises(NotFoundError):
            cases.create_case(session, cases.CaseDraft("x", ("RJ1",)), actor=ACTOR, scope=member)
        case = cases.get_case(session, mine.id, member)
    assert case.organisations == ("RAL",)


def test_a_case_search_matches_the_title_or_description_in_any_case_and_pages(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    beacon = new_case(sqlite_store)
    phish = new_case(sqlite_store, description="A PHISHING wave from the usual sender")
    with sqlite_store.session() as session:
        found = {
            search: [c.id for c in cases.list_cases(session, NATIONAL, search=search)[0]]
            for search in ("  BEACON ", "phishing", "nothing like it")
        }
        first, total = cases.list_cases(session, NATIONAL, limit=1, offset=1)
    assert found == {
        "  BEACON ": [phish.id, beacon.id],
        "phishing": [phish.id],
        "nothing like it": [],
    }
    assert ([c.id for c in first], total) == ([beacon.id], 2)  # newest first


def test_merging_an_alert_then_two_cases_moves_everything_into_one(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    first, second = (
        new_case(sqlite_store, "RAL"),
        new_case(sqlite_store, "RJ1", severity="critical"),
    )
    with sqlite_store.session() as session:
        cases.merge_alert(session, first.id, federation["RAL"], actor=ACTOR, scope=NATIONAL)
        cases.merge_alert(session, second.id, federation["RJ1"], actor=ACTOR, scope=NATIONAL)
        cases.add_task(session, second.id, "Isolate the host", actor=ACTOR, scope=NATIONAL)
        merged = cases.merge_cases(session, first.id, second.id, actor=ACTOR, scope=NATIONAL)
        source = cases.get_case(session, second.id, NATIONAL)
        target = cases.get_case(session, first.id, NATIONAL)
    assert merged.organisations == ("RAL", "RJ1")
    assert target.severity is cases.CaseSeverity.CRITICAL
    assert sorted(target.alerts) == sorted([federation["RAL"], federation["RJ1"]])
    assert [t.title for t in target.tasks] == ["Isolate the host"]
    assert len(target.observables) == 1  # the same address from both: kept once
    assert (source.status, source.merged_into) == (cases.CaseStatus.CLOSED, first.id)
    assert len(trail(sqlite_store, "case.merge_alert")) == 2
    assert len(trail(sqlite_store, "case.merge")) == 3  # a prefix: merge_alert ×2 and merge
    with sqlite_store.session() as session, pytest.raises(ConflictError, match="closed"):
        cases.merge_alert(session, second.id, federation["RKE"], actor=ACTOR, scope=NATIONAL)


def test_closing_needs_a_resolution_and_reopening_clears_it(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    made = new_case(sqlite_store)
    with sqlite_store.session() as session:
        with pytest.raises(InputError, match="resolution"):
            cases.set_status(session, made.id, "closed", actor=ACTOR, scope=NATIONAL)
        cases.set_status(
            session, made.id, "triage", actor=ACTOR, scope=NATIONAL, now=T0 + timedelta(minutes=5)
        )
        closed = cases.set_status(
            session, made.id, "closed", actor=ACTOR, scope=NATIONAL, resolution="false positive",
            now=T0 + timedelta(hours=2),
        )  # fmt: skip
        assert (closed.acknowledged_at, closed.closed_at) == (
            T0 + timedelta(minutes=5),
            T0 + timedelta(hours=2),
        )
        reopened = cases.set_status(session, made.id, "post-incident", actor=ACTOR, scope=NATIONAL)
    assert (reopened.status, reopened.resolution, reopened.closed_at) == (
        cases.CaseStatus.POST_INCIDENT,
        "",
        None,
    )
    events = trail(sqlite_store, "case.status")
    assert [e.after["status"] for e in events if e.after] == ["post_incident", "closed", "triage"]


def test_regulatory_clocks_count_down_from_awareness_and_go_overdue(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    made = new_case(sqlite_store, personal_data=True, aware_at=T0)
    policy = cases.ClockPolicy(breach_hours=72, sector_hours=24)
    with sqlite_store.session() as session:
        early = cases.get_case(
            session, made.id, NATIONAL, policy=policy, now=T0 + timedelta(hours=10)
        )
        late = cases.get_case(
            session, made.id, NATIONAL, policy=policy, now=T0 + timedelta(hours=30)
        )
        cases.report_clock(
            session, made.id, "sector", actor=ACTOR, scope=NATIONAL, at=T0 + timedelta(hours=20)
        )
        reported = cases.get_case(
            session, made.id, NATIONAL, policy=policy, now=T0 + timedelta(hours=30)
        )
    by_clock = {c.clock.value: c for c in early.clocks}
    assert by_clock["breach"].deadline == T0 + timedelta(hours=72)
    assert by_clock["sector"].seconds_left == 14 * 3600
    assert not by_clock["sector"].overdue
    assert {c.clock.value: c.overdue for c in late.clocks} == {"breach": False, "sector": True}
    assert {c.clock.value: c.overdue for c in reported.clocks} == {"breach": False, "sector": False}


def test_attachments_are_stored_once_by_content_hash_within_the_size_cap(
    sqlite_store: Store, federation: dict[str, int], tmp_path: Path
) -> None:
    made = new_case(sqlite_store)
    root = tmp_path / "attachments"
    with sqlite_store.session() as session:
        for name in ("../../etc/headers.eml", "copy.eml"):
            cases.add_attachment(
                session, made.id, name, b"Received: x", actor=ACTOR, scope=NATIONAL, root=root,
                max_bytes=100,
            )  # fmt: skip
        with pytest.raises(LimitExceeded):
            cases.add_attachment(
                session, made.id, "big", b"x" * 101, actor=ACTOR, scope=NATIONAL, root=root,
                max_bytes=100,
            )  # fmt: skip
        case = cases.get_case(session, made.id, NATIONAL)
    assert [a.name for a in case.attachments] == ["headers.eml", "copy.eml"]
    digest = case.attachments[0].sha256
    assert case.attachments[1].sha256 == digest
    assert cases.attachment_path(root, digest).read_bytes() == b"Received: x"
    assert [p.name for p in root.rglob("*") if p.is_file()] == [digest]


def test_notes_observables_and_tasks_each_leave_a_timeline_entry_and_an_audit_event(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    made = new_case(sqlite_store)
    with sqlite_store.session() as session:
        cases.add_note(session, made.id, "Spoke to the trust's CISO", actor=ACTOR, scope=NATIONAL)
        cases.add_observable(
            session, made.id, "domain", "Evil.Example.", actor=ACTOR, scope=NATIONAL, tlp="green"
        )
        task = cases.add_task(session, made.id, "Block the domain", actor=ACTOR, scope=NATIONAL)
        cases.set_task(session, made.id, task, status="done", actor=ACTOR, scope=NATIONAL)
        with pytest.raises(ConflictError):
            cases.add_observable(
                session, made.id, "domain", "evil.example", actor=ACTOR, scope=NATIONAL
            )
        case = cases.get_case(session, made.id, NATIONAL)
    assert [e.kind for e in case.timeline] == ["status", "note", "observable", "task", "task"]
    assert (case.observables[0].value, case.observables[0].tlp.value) == ("evil.example", "GREEN")
    assert case.tasks[0].status is cases.TaskStatus.DONE
    actions = [e.action for e in trail(sqlite_store, "case.")]
    assert actions == ["case.task", "case.task_add", "case.observable", "case.note", "case.create"]


def test_campaign_names_shareable_organisations_and_only_counts_the_others(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    with sqlite_store.session() as session:
        for org in ("RAL", "RJ1", "RKE"):
            case = cases.create_case(
                session, cases.CaseDraft(f"C2 at {org}", (org,), tlp="GREEN" if org == "RJ1" else "AMBER"),
                actor=ACTOR, scope=NATIONAL,
            )  # fmt: skip
            cases.add_observable(
                session, case.id, "domain", "c2.example", actor=ACTOR, scope=NATIONAL
            )
        national = cases.campaign(session, NATIONAL, "domain", "c2.example")
        member = cases.campaign(session, Scope.of(["RAL"]), "domain", "c2.example")
        summaries = cases.campaigns(session, Scope.of(["RAL"]))
        with pytest.raises(NotFoundError):  # not in the member's cases: no oracle
            cases.campaign(session, Scope.of(["RAL"]), "domain", "other.example")
        ip = cases.campaign(session, Scope.of(["RAL"]), "ip", BAD_IP)
    assert [a.org for a in national.affected] == ["RAL", "RJ1", "RKE"]
    assert national.others == 0
    assert [(a.org, a.own, bool(a.cases)) for a in member.affected] == [
        ("RAL", True, True),
        ("RJ1", False, False),
    ]
    assert member.others == 1  # RKE marked its case AMBER
    assert [(s.value, s.organisations) for s in summaries] == [("c2.example", 3)]
    # No case holds the address, but each trust's alert does: the others are only counted.
    assert ([(a.org, a.alerts) for a in ip.affected], ip.others) == ([("RAL", 1)], 2)


def spread(store: Store) -> list[tuple[str, str, int, int]]:
    """Every observable's kept spread, then the same counted afresh: they must agree."""
    with store.session() as session:
        kept = [(s.kind, s.value, s.organisations, s.cases) for s in cases.campaigns(
            session, NATIONAL, min_organisations=1, limit=None)]  # fmt: skip
        cases.recount_all(session)
        fresh = [(s.kind, s.value, s.organisations, s.cases) for s in cases.campaigns(
            session, NATIONAL, min_organisations=1, limit=None)]  # fmt: skip
        session.rollback()
    assert kept == fresh
    return kept


def test_campaign_counts_follow_observables_alerts_and_merges(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    first, second, third = (new_case(sqlite_store, o) for o in ("RAL", "RJ1", "RJ1"))
    with sqlite_store.session() as session:
        for case in (first, second, third):
            cases.add_observable(
                session, case.id, "domain", "c2.example", actor=ACTOR, scope=NATIONAL
            )
    assert spread(sqlite_store) == [("domain", "c2.example", 2, 3)]
    with sqlite_store.session() as session:  # the alert brings its address and adds RKE
        cases.merge_alert(session, first.id, federation["RKE"], actor=ACTOR, scope=NATIONAL)
    assert spread(sqlite_store) == [
        ("domain", "c2.example", 3, 3),
        ("ip", BAD_IP, 2, 1),  # the case is RAL's and RKE's now
    ]
    with sqlite_store.session() as session:  # the third's observable is the second's twin
        cases.merge_cases(session, second.id, third.id, actor=ACTOR, scope=NATIONAL)
        cases.add_observable(session, second.id, "ip", BAD_IP, actor=ACTOR, scope=NATIONAL)
        pages = [
            [s.value for s in cases.campaigns(session, NATIONAL, limit=1, offset=n)]
            for n in (0, 1, 2)
        ]
        total = cases.count_campaigns(session, NATIONAL)
        mine = [s.value for s in cases.campaigns(session, Scope.of(["RKE"]))]
    # As many organisations each: by value, the address first.
    assert spread(sqlite_store) == [("ip", BAD_IP, 3, 2), ("domain", "c2.example", 3, 2)]
    assert (pages, total) == ([[BAD_IP], ["c2.example"], []], 2)
    assert mine == [BAD_IP, "c2.example"]  # RKE's case has both


def test_stats_page_the_organisations_most_cases_first(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    for org in ("RKE", "RJ1", "RJ1", "RAL"):
        new_case(sqlite_store, org)
    with sqlite_store.session() as session:
        every = cases.case_stats(session, NATIONAL)
        pages = [cases.case_stats(session, NATIONAL, organisations=(n, 2)) for n in (0, 2)]
    assert [o.key for o in every.by_organisation] == ["RAL", "RJ1", "RKE"]  # CLI, API: all
    assert [[o.key for o in p.by_organisation] for p in pages] == [["RJ1", "RAL"], ["RKE"]]
    assert [p.organisations for p in (every, *pages)] == [3, 3, 3]
    assert pages[0].by_organisation[0].cases == 2
    assert pages[0].overall == every.overall


def test_stats_measure_time_to_acknowledge_and_resolve_and_age_the_open_cases(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    fast, slow, _waiting = (
        new_case(sqlite_store, org, severity="high") for org in ("RAL", "RJ1", "RKE")
    )
    with sqlite_store.session() as session:
        for case, ack, close in ((fast, 1, 2), (slow, 3, 10)):
            cases.set_status(
                session,
                case.id,
                "triage",
                actor=ACTOR,
                scope=NATIONAL,
                now=T0 + timedelta(hours=ack),
            )
            cases.set_status(
                session, case.id, "closed", actor=ACTOR, scope=NATIONAL, resolution="done",
                now=T0 + timedelta(hours=close),
            )  # fmt: skip
        stats = cases.case_stats(
            session, NATIONAL, since=T0 - timedelta(days=1), now=T0 + timedelta(days=3)
        )
        mine = cases.case_stats(
            session, Scope.of(["RAL"]), since=T0 - timedelta(days=1), now=T0 + timedelta(days=3)
        )
    assert (stats.overall.cases, stats.overall.acknowledged, stats.overall.closed) == (3, 2, 2)
    assert stats.overall.mtta_seconds == 2 * 3600
    assert stats.overall.mttr_seconds == 6 * 3600
    assert [o.key for o in stats.by_organisation] == ["RAL", "RJ1", "RKE"]
    assert stats.open_by_age == {"under 1 day": 0, "1-7 days": 1, "7-30 days": 0, "over 30 days": 0}
    assert ([o.key for o in mine.by_organisation], mine.overall.mttr_seconds) == (["RAL"], 7200)


def test_promoting_an_alert_brings_its_whole_group(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    rule = {
        **indicator_hit("RAL", minute=2), "kind": "rule", "key": "sigma:c2-beacon",
        "title": "Beacon pattern", "indicator.type": "sigma-rule", "indicator.value": BAD_IP,
    }  # fmt: skip
    with sqlite_store.session() as session:
        record_alerts(session, pl.DataFrame([rule]))
        found, _ = list_alerts(session, org="RAL")
        assert (
            len({a.group_id for a in found}) == 1
        )  # the indicator alert and the rule's: one group
        made = cases.promote_alert(
            session, federation["RAL"], title="Beacon", actor=ACTOR, scope=NATIONAL
        )
        case = cases.get_case(session, made.id, NATIONAL)
    assert sorted(case.alerts) == sorted(a.id for a in found)
    assert [e.kind for e in case.timeline].count("alert") == 2


def test_stats_carry_the_alerts_response_times_nationally_and_per_member_organisation(
    sqlite_store: Store, federation: dict[str, int]
) -> None:
    with sqlite_store.session() as session:
        acknowledge(session, ACTOR, [federation["RAL"]])
        moment = datetime.now(UTC)
        national = cases.case_stats(
            session, NATIONAL, since=moment - timedelta(hours=1), until=moment + timedelta(hours=1)
        )
        member = cases.case_stats(
            session,
            Scope.of(["RAL"]),
            since=moment - timedelta(hours=1),
            until=moment + timedelta(hours=1),
        )
    [everyone] = national.alerts
    assert (everyone.org, everyone.alerts, everyone.acknowledged) == (None, 3, 1)
    assert everyone.urgent == 3  # all three alerts are high
    assert everyone.urgent_within_target == 1
    [own] = member.alerts
    assert (own.org, own.alerts, own.acknowledged) == ("RAL", 1, 1)


def test_evidence_pulled_by_a_hunt_lands_on_the_timeline_at_the_events_times(
    sqlite_store: Store, federation: dict[str, int], tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    events = pl.DataFrame(
        {
            "@timestamp": [T0 + timedelta(minutes=m) for m in (3, 1, 7)],
            "organization.id": ["RAL", "RAL", "RJ1"],
            "source.ip": ["10.0.0.5", "10.0.0.5", "10.9.0.1"],
            "destination.ip": [BAD_IP, BAD_IP, BAD_IP],
        }
    )
    write_batch(events, archive, "b-1")
    made = new_case(sqlite_store)
    query = f"""SELECT * FROM events WHERE org = 'RAL' AND "destination.ip" = '{BAD_IP}'"""
    with sqlite_store.session() as session:
        found = cases.add_evidence(session, made.id, archive, query, actor=ACTOR, scope=NATIONAL)
        with pytest.raises(PermissionDenied):  # a hunt reads every organisation: national only
            cases.add_evidence(
                session, made.id, archive, query, actor=ACTOR, scope=Scope.of(["RAL"])
            )
        case = cases.get_case(session, made.id, NATIONAL)
    evidence = [e for e in case.timeline if e.kind == "evidence"]
    assert found == 2
    assert [e.at for e in evidence] == [T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)]
    assert {e.data["source.ip"] for e in evidence if e.data} == {"10.0.0.5"}
    [event] = trail(sqlite_store, "case.evidence")
    assert event.after == {"query": query, "events": 2}
