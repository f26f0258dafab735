"""Ingest a labelled demo day end to end: its indicators, then every log file through the pipeline."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bastion.audit import Actor
from bastion.boundary.pipeline import Pipeline
from bastion.boundary.source_stats import SourceStats
from bastion.core.settings import Settings
from bastion.demo.traffic import TrafficManifest, generate_traffic
from bastion.intel import load_indicator_file, save_indicators
from bastion.orgs import Organisation
from bastion.store import Store


def web_server_owner(manifest: TrafficManifest) -> str | None:
    """Return the member whose web server wrote the demo's access log (it names no server address)."""
    owners = {a.organisation for a in manifest.attacks if a.format == "nginx"}
    return owners.pop() if len(owners) == 1 else None


def ingest_day(
    store: Store, settings: Settings, manifest: TrafficManifest, *, actor: Actor
) -> list[SourceStats]:
    """Store the day's indicators (an audited import), then ingest each of its files."""
    with store.session() as session:
        save_indicators(session, load_indicator_file(manifest.indicators), actor=actor)
    pipeline = Pipeline.open(store, settings)
    web = Pipeline.open(store, settings, default_org=web_server_owner(manifest))
    stats = [
        (web if log.format == "nginx" else pipeline).ingest_file(
            manifest.out_dir / log.path, log.format
        )
        for log in manifest.files
    ]
    pipeline.compact()
    return stats


def generate_and_ingest_day(
    store: Store,
    settings: Settings,
    orgs: list[Organisation],
    out_dir: Path,
    *,
    events: int,
    day: date,
    seed: int = 7,
    actor: Actor,
) -> tuple[TrafficManifest, list[SourceStats]]:
    """Write a labelled day of traffic for ``orgs`` and ingest it."""
    manifest = generate_traffic(orgs, out_dir, seed=seed, events=events, day=day)
    return manifest, ingest_day(store, settings, manifest, actor=actor)
