"""Write N events of one format with the demo's generators, planted attacks mixed in.

A case names a demo log (its benign generator and renderer) and which planted attacks
it carries. Events are drawn and rendered a chunk at a time, in time order over the
demo day, so ten million events need no more memory than one chunk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from bastion.demo import DEFAULT_DAY
from bastion.demo.attacks import plant_attacks
from bastion.demo.formats import fortigate, nginx, panos, squid, zeek
from bastion.demo.formats.common import Benign, LogSpec, Render
from bastion.demo.rand import Draw
from bastion.demo.world import World
from bastion.orgs import Organisation
from bench._boundary import ecs, firewalls

CHUNK_EVENTS = 250_000
DAY_US = 86_400_000_000
SEED = 7
_ZEEK = {
    s.path.removeprefix("zeek/").removesuffix(".log"): s
    for s in zeek.specs(dict.fromkeys(("conn", "dns", "http", "ssl"), 1.0))
}


@dataclass(frozen=True)
class Case:
    """One benchmarked format: the parser that reads it and how its file is made."""

    name: str
    parser: str
    kind: str  # csv-like, key=value, json, access-log: which target applies
    file: str
    benign: Benign
    render: Render
    plants_from: tuple[str, ...]  # demo files whose planted attacks this file carries
    header: Callable[[int], list[str]] | None = None
    footer: Callable[[int], list[str]] | None = None
    needs_uid: bool = False


def _case(name: str, parser: str, kind: str, spec: LogSpec, *plants: str, **extra: object) -> Case:
    return Case(
        name,
        parser,
        kind,
        spec.path.replace("/", "-"),
        spec.benign,
        spec.render,
        plants or (spec.path,),
        spec.header,
        spec.footer,
        **extra,  # type: ignore[arg-type]
    )


def _spec(path: str, benign: Benign, render: Render) -> LogSpec:
    return LogSpec(path.split("/")[0].removesuffix(".log"), path, 1.0, benign, render)


CASES: dict[str, Case] = {
    case.name: case
    for case in (
        _case("panos", "panos", "csv-like", _spec("panos.log", panos.benign, panos.render)),
        # conn.log has no planted attack of its own: it carries the PAN-OS ones (the C2 beacons).
        _case("zeek", "zeek", "csv-like", _ZEEK["conn"], "panos.log", needs_uid=True),
        _case("zeek-dns", "zeek", "csv-like", _ZEEK["dns"]),
        _case(
            "fortigate",
            "fortigate",
            "key=value",
            _spec("fortigate.log", fortigate.benign, fortigate.render),
        ),
        Case("ecs", "ecs", "json", "ecs.json", panos.benign, ecs.render, ("panos.log",)),
        # The demo writes no ASA or netfilter log: both are rendered from the PAN-OS flows.
        Case(
            "asa",
            "cisco-asa",
            "syslog",
            "asa.log",
            panos.benign,
            firewalls.render_asa,
            ("panos.log",),
        ),
        Case(
            "iptables",
            "iptables",
            "syslog",
            "iptables.log",
            panos.benign,
            firewalls.render_iptables,
            ("panos.log",),
        ),
        _case(
            "nginx", "nginx", "access-log", _spec("nginx/access.log", nginx.benign, nginx.render)
        ),
        _case(
            "squid", "squid", "access-log", _spec("squid/access.log", squid.benign, squid.render)
        ),
    )
}
DEFAULT_CASES = ("panos", "zeek", "fortigate", "ecs", "nginx", "squid", "asa", "iptables")


@dataclass(frozen=True)
class Generated:
    """A written event file and what it holds."""

    path: Path
    events: int
    planted: int
    bytes: int
    seconds: float


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def cached(case: Case, directory: Path, events: int) -> Generated | None:
    """Return the file written for ``case`` with ``events`` events, if it is there and whole."""
    path = directory / case.file
    try:
        stamp = json.loads(_stamp(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        stamp.get("events") != events
        or not path.is_file()
        or path.stat().st_size != stamp.get("bytes")
    ):
        return None
    return Generated(path, events, stamp["planted"], stamp["bytes"], stamp["seconds"])


def generate(
    case: Case,
    directory: Path,
    events: int,
    demo_orgs: Sequence[Organisation],
    world: World,
    *,
    chunk: int = CHUNK_EVENTS,
) -> Generated:
    """Write ``events`` events of ``case`` (planted attacks included) under ``directory``."""
    started = datetime.now(UTC)
    day_start = int(datetime(*DEFAULT_DAY.timetuple()[:3], tzinfo=UTC).timestamp()) * 1_000_000
    plants = plant_attacks(demo_orgs, world.servers, seed=SEED, day_start=day_start, events=events)
    frames = [p.frame for p in plants if p.label.file in case.plants_from]
    attacks = pl.concat(frames).sort("ts") if frames else None
    if attacks is not None and case.needs_uid:
        attacks = zeek.with_uid(attacks, Draw(SEED, case.name, "planted"))
    planted = 0 if attacks is None else attacks.height
    benign_total = max(events - planted, 0)
    chunks = max(1, -(-benign_total // chunk))
    path = directory / case.file
    directory.mkdir(parents=True, exist_ok=True)
    _stamp(path).unlink(missing_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        if case.header:
            out.write("\n".join(case.header(day_start)) + "\n")
        for index in range(chunks):
            n = benign_total // chunks + (1 if index < benign_total % chunks else 0)
            start, end = (
                day_start + index * DAY_US // chunks,
                day_start + (index + 1) * DAY_US // chunks,
            )
            draw = Draw(SEED, case.name, index)
            frame = case.benign(world, draw, draw.ints(n, start, end).sort())
            if attacks is not None:
                mine = attacks.filter(pl.col("ts").is_between(start, end, closed="left"))
                frame = pl.concat([frame, mine.select(frame.columns)])
            lines = case.render(frame.sort("ts", maintain_order=True))
            out.write("\n".join(lines.to_list()) + "\n")
        if case.footer:
            out.write("\n".join(case.footer(day_start + DAY_US)) + "\n")
    seconds = (datetime.now(UTC) - started).total_seconds()
    size = path.stat().st_size
    stamp = {"events": events, "planted": planted, "bytes": size, "seconds": seconds}
    _stamp(path).write_text(json.dumps(stamp) + "\n", encoding="utf-8")
    return Generated(path, events, planted, size, seconds)
