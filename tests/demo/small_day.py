"""The labelled demo day the tests ingest: the small federation, 6,000 events, demo rules."""

from __future__ import annotations

from pathlib import Path

from bastion.audit import Actor
from bastion.core.settings import Settings
from bastion.demo import generate_federation, load_federation
from bastion.demo.day import generate_and_ingest_day
from bastion.demo.detection import install_demo_rules
from bastion.demo.traffic import DEFAULT_DAY, TrafficManifest
from bastion.store import Store


def ingest_small_demo_day(store: Store, folder: Path) -> TrafficManifest:
    """Install the demo rules, load the small federation and ingest its day into ``store``."""
    settings = Settings(data_dir=folder / "data")
    install_demo_rules(settings.rules_dir)
    orgs = generate_federation(size="small")
    with store.session() as session:
        load_federation(session, orgs, actor=Actor.cli("test"))
    manifest, _ = generate_and_ingest_day(
        store, settings, orgs, folder / "day", events=6_000, day=DEFAULT_DAY,
        actor=Actor.cli("test"),
    )  # fmt: skip
    return manifest
