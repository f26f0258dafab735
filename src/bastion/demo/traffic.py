"""Write a labelled day of boundary traffic for a federation, in the formats Bastion reads.

Benign traffic is drawn column by column in chunks (so ten million events stream
through a fixed amount of memory), busier by day than by night; the planted
attacks are mixed into the chunk their time falls in, and each file is in time
order. Beside the logs go ``indicators.csv`` (the demo's indicator set, exactly
what the attacks use) and ``labels.json`` (every planted attack, for checking
what Bastion finds).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from bastion.core.errors import InputError
from bastion.demo.attacks import plant_attacks
from bastion.demo.formats import fortigate, nginx, panos, squid, zeek
from bastion.demo.formats.common import LogSpec
from bastion.demo.plant import HOUR, PlantedAttack
from bastion.demo.rand import Draw
from bastion.demo.world import C2_IPS, JNDI_URL_PATTERN, MALICIOUS_JA3, PHISHING_DOMAINS, World
from bastion.orgs import Organisation

DEFAULT_DAY = date(2025, 6, 2)
MIN_EVENTS = 2_000
MAX_EVENTS = 1_000_000_000
CHUNK_EVENTS = 250_000
# Relative activity per hour of the day (UTC): quiet nights, busy working hours.
HOURLY = (
    2,
    1.5,
    1.2,
    1,
    1,
    1.2,
    2,
    4,
    7,
    8,
    8,
    7.5,
    7,
    7.5,
    8,
    7.5,
    7,
    6,
    4.5,
    3.5,
    3,
    2.8,
    2.5,
    2.2,
)
INDICATOR_COLUMNS = ("type", "value", "source", "severity", "confidence", "action", "threat")
INDICATOR_SOURCE = "bastion-demo"


def log_specs() -> list[LogSpec]:
    """Return the demo day's log files, each with its share of the benign events."""
    return [
        LogSpec("panos", "panos.log", 0.30, panos.benign, panos.render),
        LogSpec("fortigate", "fortigate.log", 0.24, fortigate.benign, fortigate.render),
        *zeek.specs({"conn": 0.12, "dns": 0.10, "http": 0.04, "ssl": 0.06}),
        LogSpec("nginx", "nginx/access.log", 0.06, nginx.benign, nginx.render),
        LogSpec("squid", "squid/access.log", 0.08, squid.benign, squid.render),
    ]


@dataclass(frozen=True)
class LogFile:
    """One written log file."""

    format: str  # the Bastion parser that reads it
    path: str  # relative to the output folder
    events: int  # event lines (headers and footers not counted)
    attack_events: int  # of which planted


@dataclass(frozen=True)
class TrafficManifest:
    """What ``generate_traffic`` wrote."""

    out_dir: Path
    seed: int
    day: date
    events: int
    files: tuple[LogFile, ...]
    attacks: tuple[PlantedAttack, ...]
    indicators: Path
    labels: Path

    def to_json(self) -> dict[str, Any]:
        """Return the manifest as plain JSON values (paths relative to ``out_dir``)."""
        return {
            "seed": self.seed,
            "day": self.day.isoformat(),
            "events": self.events,
            "files": [dataclasses.asdict(f) for f in self.files],
            "attacks": [dataclasses.asdict(a) for a in self.attacks],
            "indicators": self.indicators.name,
        }


def demo_indicators() -> list[dict[str, str]]:
    """Return the demo indicator set: exactly the C2 IPs, phishing domains, JA3 and jndi URL."""
    rows = [
        ("ipv4", ip, "critical", "90", "block", "DemoRAT command-and-control server")
        for ip in C2_IPS
    ]
    rows += [
        ("domain", d, "high", "85", "block", "credential phishing posing as NHS services")
        for d in PHISHING_DOMAINS
    ]
    rows.append(("ja3", MALICIOUS_JA3, "high", "75", "alert", "DemoRAT implant TLS client"))
    rows.append(
        (
            "url_pattern",
            JNDI_URL_PATTERN,
            "critical",
            "95",
            "alert",
            "Log4Shell exploit (CVE-2021-44228)",
        )
    )
    return [
        dict(zip(INDICATOR_COLUMNS, (kind, value, INDICATOR_SOURCE, *rest), strict=True))
        for kind, value, *rest in rows
    ]


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), summing exactly."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _chunks(count: int, day_start: int, chunk: int) -> Iterator[list[tuple[int, int, int]]]:
    """Yield groups of (start, end, events) windows covering the whole day, each <= ``chunk`` events."""
    windows: list[tuple[int, int, int]] = []
    for hour, events in enumerate(_split(count, HOURLY)):
        parts = max(1, -(-events // chunk))
        start = day_start + hour * HOUR
        for part, n in enumerate(_split(events, [1.0] * parts)):
            windows.append((start + part * HOUR // parts, start + (part + 1) * HOUR // parts, n))
    group: list[tuple[int, int, int]] = []
    for window in windows:
        if group and sum(w[2] for w in group) + window[2] > chunk:
            yield group
            group = []
        group.append(window)
    yield group


def _write_log(
    out_dir: Path,
    spec: LogSpec,
    world: World,
    count: int,
    attacks: pl.DataFrame | None,
    *,
    seed: int,
    day_start: int,
    chunk: int,
) -> int:
    path = out_dir / spec.path
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        if spec.header:
            out.write("\n".join(spec.header(day_start)) + "\n")
        for index, windows in enumerate(_chunks(count, day_start, chunk)):
            draw = Draw(seed, spec.path, index)
            ts = pl.concat([draw.ints(n, start, end) for start, end, n in windows]).sort()
            frame = spec.benign(world, draw, ts) if len(ts) else None
            if attacks is not None:
                start, end = windows[0][0], windows[-1][1]
                planted = attacks.filter(pl.col("ts").is_between(start, end, closed="left"))
                frame = planted if frame is None else pl.concat([frame, planted])
            if frame is None or frame.is_empty():
                continue
            lines = spec.render(frame.sort("ts", maintain_order=True))
            out.write("\n".join(lines.to_list()) + "\n")
            written += len(lines)
        if spec.footer:
            out.write("\n".join(spec.footer(day_start + 24 * HOUR)) + "\n")
    return written


def generate_traffic(
    orgs: Sequence[Organisation],
    out_dir: Path,
    *,
    seed: int = 7,
    events: int = 200_000,
    day: date = DEFAULT_DAY,
    chunk_events: int = CHUNK_EVENTS,
) -> TrafficManifest:
    """Write a labelled day of boundary traffic for ``orgs`` to ``out_dir``; return its manifest.

    ``events`` is the exact number of event lines over all files, planted attacks
    included. The same organisations, seed, size and day give the same files.
    """
    if not MIN_EVENTS <= events <= MAX_EVENTS:
        msg = f"--events {events} is out of range: choose {MIN_EVENTS:,} to {MAX_EVENTS:,}"
        raise InputError(msg)
    world = World(orgs)
    day_start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000
    plants = plant_attacks(orgs, world.servers, seed=seed, day_start=day_start, events=events)
    specs = log_specs()
    known = {s.path for s in specs}
    assert all(p.label.file in known for p in plants), "an attack names a file no spec writes"
    attack_total = sum(p.frame.height for p in plants)
    counts = _split(events - attack_total, [s.share for s in specs])
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for spec, count in zip(specs, counts, strict=True):
        frames = [p.frame for p in plants if p.label.file == spec.path]
        attacks = pl.concat(frames).sort("ts") if frames else None
        written = _write_log(
            out_dir, spec, world, count, attacks, seed=seed, day_start=day_start, chunk=chunk_events
        )
        files.append(LogFile(spec.format, spec.path, written, sum(f.height for f in frames)))
    indicators = out_dir / "indicators.csv"
    with indicators.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, INDICATOR_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(demo_indicators())
    manifest = TrafficManifest(
        out_dir=out_dir,
        seed=seed,
        day=day,
        events=sum(f.events for f in files),
        files=tuple(files),
        attacks=tuple(p.label for p in plants),
        indicators=indicators,
        labels=out_dir / "labels.json",
    )
    manifest.labels.write_text(json.dumps(manifest.to_json(), indent=2) + "\n", encoding="utf-8")
    return manifest
