"""A running pipeline picks up indicators added to the store, without a restart."""

from __future__ import annotations

from pathlib import Path

from bastion import intel, orgs
from bastion.alerts import list_alerts
from bastion.audit import Actor
from bastion.boundary.pipeline import Pipeline
from bastion.core.settings import Settings
from bastion.store import Store

LINE = (
    "{stamp}.123    120 11.0.0.5 TCP_MISS/200 5120 GET http://{host}/login - "
    "HIER_DIRECT/198.18.0.10 text/html\n"
)


def test_an_indicator_stored_mid_run_alerts_on_the_next_batch(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        orgs.save_organisation(
            session,
            orgs.Organisation("R0A", "Trust", orgs.OrgType.TRUST, networks=("11.0.0.0/24",)),
            actor=Actor.cli("test"),
        )
    settings = Settings(data_dir=tmp_path, intel_refresh_seconds=0)
    pipeline = Pipeline.open(store, settings)
    first, second = tmp_path / "one.log", tmp_path / "two.log"
    first.write_text(LINE.format(stamp=1748858400, host="new-evil.example"))
    second.write_text(LINE.format(stamp=1748858460, host="new-evil.example"))

    assert pipeline.ingest_file(first, "squid").alerts_created == 0
    with store.session() as session:
        intel.store_listings(
            session,
            [
                intel.Indicator(
                    type=intel.IndicatorType.DOMAIN, value="new-evil.example", source="feed"
                )
            ],
            reason="test feed",
            actor=Actor.cli("test"),
        )
    stats = pipeline.ingest_file(second, "squid")

    assert stats.alerts_created == 1
    with store.session() as session:
        [alert], total = list_alerts(session)
    assert total == 1
    assert (alert.org, alert.indicator_value) == ("R0A", "new-evil.example")


def test_indicators_from_files_are_fixed_for_the_run(store: Store, tmp_path: Path) -> None:
    listed = tmp_path / "ind.csv"
    listed.write_text("type,value,source,severity\ndomain,listed.example,feed,high\n")
    pipeline = Pipeline.open(store, Settings(data_dir=tmp_path), indicator_files=[listed])
    assert pipeline.live is None
    assert len(pipeline.index) == 1
