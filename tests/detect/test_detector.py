"""The detect stage: hits become alert candidates; tuning per rule and per organisation; ingest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from bastion.alerts import list_alerts
from bastion.audit import Actor
from bastion.boundary.pipeline import Pipeline
from bastion.core.errors import NotFoundError
from bastion.core.events import CANDIDATE_SCHEMA
from bastion.core.settings import Settings
from bastion.detect import CorrelationState
from bastion.detect.detector import Detector, Tuning, load_tuning, set_enabled
from bastion.orgs import Organisation, OrgType, save_organisation
from bastion.store import Store

UA_RULE = "sel:\n  c-useragent|contains: rclone\ncondition: sel"


def _batch(kit: Any) -> pl.DataFrame:
    when = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    return kit.events(
        [
            {
                "user_agent.original": "rclone/v1.66",
                "organization.id": org,
                "host.ip": "10.0.0.1",
                "@timestamp": when,
                "event.type": etype,
                "event.original": "raw line",
                "log.file.path": "proxy.log",
                "log.offset": 7,
            }
            for org, etype in (("R0A", "denied"), ("R1B", "allowed"))
        ]
    )


def test_hits_become_rule_candidates(kit: Any) -> None:
    detector = Detector(kit.ruleset(kit.rule_yaml(UA_RULE)))
    before = CorrelationState()
    found, after = detector.run(_batch(kit), before)
    assert after is before  # no correlation: the state passes through
    assert found.schema == pl.Schema(CANDIDATE_SCHEMA)
    row = found.row(0, named=True)
    assert row["kind"] == "rule"
    assert row["key"] == f"sigma:{kit.RULE_ID}"
    assert row["title"] == "Test rule"
    assert row["severity"] == "high"
    assert row["indicator.type"] == "sigma-rule"
    assert row["indicator.value"] == kit.RULE_ID
    assert row["indicator.threat"] == "attack.command-and-control, attack.t1071.001"
    assert (row["organization.id"], row["host.ip"], row["log.offset"]) == ("R0A", "10.0.0.1", 7)
    assert found.get_column("blocked").to_list() == [True, False]


def test_rule_off_for_everyone_is_not_evaluated(kit: Any) -> None:
    detector = Detector(
        kit.ruleset(kit.rule_yaml(UA_RULE)), Tuning(disabled=frozenset({kit.RULE_ID}))
    )
    assert detector.active.rules == []
    assert detector.run(_batch(kit), CorrelationState())[0].height == 0


def test_rule_off_for_one_organisation(kit: Any) -> None:
    tuning = Tuning(disabled_for=frozenset({(kit.RULE_ID, "R0A")}))
    detector = Detector(kit.ruleset(kit.rule_yaml(UA_RULE)), tuning)
    found, _ = detector.run(_batch(kit), CorrelationState())
    assert found.get_column("organization.id").to_list() == ["R1B"]


def test_tuning_is_stored(sqlite_store: Store, kit: Any) -> None:
    with sqlite_store.session() as session:
        save_organisation(
            session, Organisation("R0A", "Trust A", OrgType.TRUST), actor=Actor.cli("test")
        )
        set_enabled(session, "rule-1", enabled=False)
        set_enabled(session, "rule-2", enabled=False, org="r0a")
        session.commit()
    with sqlite_store.session() as session:
        tuning = load_tuning(session)
        assert tuning == Tuning(frozenset({"rule-1"}), frozenset({("rule-2", "R0A")}))
        set_enabled(session, "rule-1", enabled=True)
        set_enabled(session, "rule-2", enabled=True, org="R0A")
        assert load_tuning(session) == Tuning()
        with pytest.raises(NotFoundError):
            set_enabled(session, "rule-1", enabled=False, org="NOPE")


SQUID = "1764579600.000 102 192.0.2.1 TCP_MISS/200 507 GET {url} - DIRECT/203.0.113.9 text/html\n"
URL_RULE = "sel:\n  c-uri|contains: '.pastebin.com/raw/'\ncondition: sel"


def test_ingest_raises_rule_alerts_beside_indicator_alerts(
    sqlite_store: Store, tmp_path: Path, kit: Any
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.rules_dir.mkdir(parents=True)
    (settings.rules_dir / "paste.yml").write_text(kit.rule_yaml(URL_RULE))
    pipeline = Pipeline.open(sqlite_store, settings)
    log = tmp_path / "access.log"
    log.write_text(
        SQUID.format(url="http://x.pastebin.com/raw/abc") + SQUID.format(url="http://a.example/")
    )
    stats = pipeline.ingest_file(log, "squid")
    assert stats.events == 2
    with sqlite_store.session() as session:
        alerts = [a for a in list_alerts(session)[0] if a.kind.value == "rule"]
    sigma = [a for a in alerts if a.key == f"sigma:{kit.RULE_ID}"]
    assert len(sigma) == 1
    assert sigma[0].title == "Test rule"
    assert sigma[0].severity.value == "high"
    assert sigma[0].count == 1
    assert sigma[0].evidence[0].raw is not None
    assert "pastebin.com/raw/abc" in sigma[0].evidence[0].raw
