"""Evidence from telemetry: pre-filled answers, and drift on a KEV exposure open past 14 days."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from tests.advisories.conftest import cyclonedx, log4j_core
from tests.assure.conftest import ACTOR, EVERYTHING

from bastion.advisories import import_inventory, list_exposures
from bastion.advisories.importers import read_intel
from bastion.advisories.vulnerabilities import save_records
from bastion.alerts import list_alerts
from bastion.assure.drift import detect_drift, prefill
from bastion.assure.providers import PROVIDERS, patch_latency
from bastion.assure.returns import open_return, publish, update_return, view, visible_row
from bastion.store import Store


@cache
def log4shell_records(shared_data: Path) -> tuple[Any, ...]:
    """Log4Shell's OSV records and its entry in the real KEV catalogue (read once)."""
    records = read_intel(shared_data / "intel" / "osv").records
    kev = [r for r in read_intel(shared_data / "intel" / "cisa-kev-2025-08-25.json").records
           if "CVE-2021-44228" in r.identifiers]  # fmt: skip
    return (*records, *kev)


def exposed_to_log4shell(store: Store, shared_data: Path) -> None:
    """RAL runs log4j-core 2.14.1; Log4Shell's OSV records and its KEV entry are stored."""
    with store.session() as session:
        save_records(session, list(log4shell_records(shared_data)))
        import_inventory(session, "RAL", cyclonedx([log4j_core("2.14.1")]), "app.json", actor=ACTOR)


def test_patch_latency_fails_after_14_days_and_is_drift_only_for_kev(
    federation: Store, shared_data: Path
) -> None:
    exposed_to_log4shell(federation, shared_data)
    with federation.session() as session:
        matched = list_exposures(session, org="RAL")[0].matched_at
        [fresh] = patch_latency(session, "RAL", matched + timedelta(days=13))
        [old] = patch_latency(session, "RAL", matched + timedelta(days=15))
        [clean] = patch_latency(session, "RKE", matched + timedelta(days=15))
    assert (fresh.met, fresh.drift) == (True, False)
    assert (old.met, old.drift) == (False, True)
    assert "CVE-2021-44228" in old.summary
    assert (clean.met, clean.drift) == (True, False)
    assert "patching" in PROVIDERS.names()


def test_a_kev_exposure_contradicts_published_update_management(
    federation: Store, shared_data: Path
) -> None:
    exposed_to_log4shell(federation, shared_data)
    with federation.session() as session:
        matched = list_exposures(session, org="RAL")[0].matched_at
        ce = open_return(
            session, "RAL", "2024-25", "cyber-essentials", actor=ACTOR, scope=EVERYTHING
        )
        everything = {s.id: True for o in ce.outcomes for s in o.statements}
        update_return(session, ce.id, actor=ACTOR, scope=EVERYTHING, answers=everything)
        publish(session, ce.id, actor=ACTOR, scope=EVERYTHING, now=matched)
        assert (
            detect_drift(session, actor=ACTOR, scope=EVERYTHING, now=matched + timedelta(days=3))
            == []
        )
        flags = detect_drift(
            session, actor=ACTOR, scope=EVERYTHING, now=matched + timedelta(days=20)
        )
        assert [(f.org, f.outcome, f.statement) for f in flags] == [("RAL", "updates", "up.2")]
        shown = view(session, visible_row(session, ce.id, EVERYTHING))
        assert shown.drift[0]["outcome"] == "updates"
        alerts, _ = list_alerts(session, org="RAL")
        assert [a.key for a in alerts] == ["assure-drift:cyber-essentials:updates"]


def test_prefill_answers_from_evidence_with_links(federation: Store, shared_data: Path) -> None:
    exposed_to_log4shell(federation, shared_data)
    with federation.session() as session:
        matched = list_exposures(session, org="RAL")[0].matched_at
        dspt = open_return(session, "RAL", "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
        filled = prefill(
            session, dspt.id, actor=ACTOR, scope=EVERYTHING, now=matched + timedelta(days=30)
        )
    by_id = {s.id: s for o in filled.outcomes for s in o.statements}
    assert by_id["8.2"].answer is False  # a critical fix older than 14 days
    assert by_id["8.2"].comment.startswith("Bastion (patching)")
    assert by_id["4.3"].answer is False  # no password checks made
    assert by_id["6.1"].answer is False  # no networks, no boundary alerts
    eight = next(o for o in filled.outcomes if o.id == "8")
    assert eight.evidence == ("/advisories/exposures?org=RAL",)


def test_drift_skips_returns_of_codes_outside_the_federation(federation: Store) -> None:
    """The demo's synthetic small organisations (DM00001...) have returns but no telemetry."""
    from datetime import date

    from sqlalchemy import insert

    from bastion.assure.models import ReturnRow

    with federation.session() as session:
        session.execute(insert(ReturnRow), [{
            "org_code": "DM00001", "period": "2024-25", "framework": "dspt@2024-25", "state": "published",
            "marks": "1" * 29, "version": 1, "status": "Standards Met", "outcome_marks": "0" * 10,
            "deadline": date(2025, 6, 30), "source": "demo", "comments": {}, "evidence": {}, "owners": {},
            "facts": {}, "drift": [],
        }])  # fmt: skip
        assert detect_drift(session, actor=ACTOR, scope=EVERYTHING) == []
