"""A compacted event archive at retro-hunt scale, written straight as Parquet and cached.

Ingesting and compacting 100 million events would take the better part of an hour;
the retro-hunt only reads what compaction leaves, so this writes that directly: one
file per organisation per day (``day=…/org=…/part-c….parquet``), through the
archive's own ``write_atomically``, so codecs, dictionaries and statistics are the
ones compaction gives. The mix is a federation's boundary traffic:

- organisations of very unequal size (a few large ones, a long tail of small ones),
  each with its own internal /20 in 10/8;
- firewall sessions (half the events), DNS queries, proxy requests and TLS
  handshakes, with a raw line each; destinations, domains, URLs, JA3 and file hashes
  drawn from popularity-skewed pools (a heavy head, a long tail), plus some
  addresses seen once (scans, noise) and a little IPv6.

A sample of the events is kept beside the archive, so the hunted indicators can
name values that really occur. An archive is reused while its parameters match.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from bastion.boundary.archive import write_atomically
from bastion.core.events import ARCHIVE_SCHEMA, conform
from bastion.demo.rand import ipv4
from bench._boundary.synthetic import labels

VERSION = 1
DATASETS = ("panos.traffic", "zeek.dns", "squid.access", "zeek.ssl")
SHARES = np.array([0.5, 0.25, 0.15, 0.10])
TLDS = ("com", "net", "org", "uk", "io", "info", "xyz", "co.uk", "nhs.uk", "de")
SUBDOMAINS = ("", "", "www.", "api.", "cdn.", "mail.", "static.", "login.", "img.", "m.")
SAMPLE_ROWS = 20_000
COMPLETE = "complete.json"

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Shape:
    events: int
    days: int
    orgs: int
    seed: int = 11
    version: int = VERSION


@dataclass(frozen=True)
class Pools:
    """The values events are drawn from, most popular first."""

    ips: pl.Series  # public IPv4 destinations
    ipv6: pl.Series
    domains: pl.Series  # registered domains
    paths: pl.Series
    ja3: pl.Series
    sha256: pl.Series
    agents: pl.Series


def _hex(rng: np.random.Generator, n: int, digits: int) -> pl.Series:
    chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[
        rng.integers(0, 16, size=(n, digits), dtype=np.uint8)
    ]
    return pl.Series([bytes(row).decode() for row in chars], dtype=pl.String)


def pools(seed: int) -> Pools:
    rng = np.random.default_rng([seed, 1])
    ips = np.unique(rng.integers(11 << 24, 223 << 24, size=2_100_000, dtype=np.int64))
    ips = rng.permutation(ips)[:2_000_000]
    tlds = pl.Series(TLDS).gather(pl.Series(rng.integers(0, len(TLDS), 300_000)))
    words = labels(rng, 300_000, 10)
    v6 = rng.integers(0x2A00, 0x2A10, size=50_000), rng.integers(1, 1 << 16, size=(50_000, 2))
    return Pools(
        ips=pl.select(ipv4(pl.lit(pl.Series(ips)))).to_series(),
        ipv6=pl.Series(
            [f"{a:x}:{b:x}:{c:x}::{c % 97 + 1:x}" for a, (b, c) in zip(v6[0], v6[1], strict=True)]
        ),
        domains=(words + "." + tlds).alias("d"),
        paths=pl.select(
            "/"
            + pl.lit(labels(rng, 5000, 6))
            + "/"
            + pl.lit(labels(rng, 5000, 8))
            + pl.lit(pl.Series(rng.choice([".html", ".js", ".php", ".png", ""], 5000)))
        ).to_series(),
        ja3=_hex(rng, 5000, 32),
        sha256=_hex(rng, 100_000, 64),
        agents=pl.Series([f"Mozilla/5.0 (agent {i}) Gecko/2010{i:04d}" for i in range(40)]),
    )


def _popular(rng: np.random.Generator, size: int, n: int) -> pl.Series:
    """Indices into a pool of ``size``, the head far more often drawn than the tail."""
    return pl.Series((size * rng.random(n) ** 3).astype(np.int64))


def org_counts(shape: Shape, day: int) -> Ints:
    """Events of each organisation on ``day``: sizes fall off like 1/rank, varying by day."""
    rng = np.random.default_rng([shape.seed, 2, day])
    weights = 1.0 / (np.arange(shape.orgs) + 5.0)
    per_day = shape.events // shape.days + (1 if day < shape.events % shape.days else 0)
    return rng.multinomial(per_day, weights / weights.sum()).astype(np.int64)


def org_code(number: pl.Expr) -> pl.Expr:
    return pl.format("O{}", number.cast(pl.String).str.zfill(4))


def day_events(shape: Shape, p: Pools, day: int, start: datetime) -> pl.DataFrame:
    """Generate one day's events (``start`` is midnight UTC), sorted by organisation and time."""
    rng = np.random.default_rng([shape.seed, 3, day])
    org = np.repeat(np.arange(shape.orgs), org_counts(shape, day))
    n = len(org)
    micros = np.sort(rng.integers(0, 86_400_000_000, n))
    kind = rng.choice(len(DATASETS), size=n, p=SHARES)
    order = np.lexsort((micros, org))  # micros already sorted: this only groups by organisation
    org, micros = org[order], micros
    internal = 10 << 24 | org << 12 | rng.integers(1, 4095, n)
    public = p.ips.gather(_popular(rng, len(p.ips), n))
    noise = pl.select(ipv4(pl.lit(pl.Series(rng.integers(11 << 24, 223 << 24, n))))).to_series()
    v6 = p.ipv6.gather(pl.Series(rng.integers(0, len(p.ipv6), n)))
    draw = pl.Series(rng.random(n))
    domain = pl.Series(SUBDOMAINS).gather(
        pl.Series(rng.integers(0, len(SUBDOMAINS), n))
    ) + p.domains.gather(_popular(rng, len(p.domains), n))
    frame = pl.DataFrame(
        {
            "t": pl.Series(micros),
            "k": pl.Series(kind, dtype=pl.Int8),
            "org": pl.Series(org),
            "src": pl.select(ipv4(pl.lit(pl.Series(internal)))).to_series(),
            "sport": pl.Series(rng.integers(1024, 65535, n), dtype=pl.Int32),
            "dst": pl.select(
                pl.when(draw < 0.02)
                .then(pl.lit(v6))
                .when(draw < 0.07)
                .then(pl.lit(noise))
                .otherwise(pl.lit(public))
            ).to_series(),
            "dport": pl.Series(rng.choice([443, 443, 443, 80, 53, 22, 25, 3389, 8080], n)),
            "bytes": pl.Series(rng.integers(60, 2_000_000, n)),
            "domain": domain,
            "path": p.paths.gather(_popular(rng, len(p.paths), n)),
            "ja3": p.ja3.gather(_popular(rng, len(p.ja3), n)),
            "hash": p.sha256.gather(pl.Series(rng.integers(0, len(p.sha256), n))),
            "hashed": pl.Series(rng.random(n) < 0.03),
            "ua": p.agents.gather(pl.Series(rng.integers(0, len(p.agents), n))),
            "status": pl.Series(rng.choice([200, 200, 200, 304, 302, 404, 403, 500], n)),
            "allowed": pl.Series(rng.random(n) < 0.92),
        }
    )
    k = pl.col("k")
    traffic, dns, squid, ssl = (k == i for i in range(4))
    code = org_code(pl.col("org"))
    dataset = k.replace_strict(list(range(len(DATASETS))), list(DATASETS), return_dtype=pl.String)
    stamp = pl.lit(start) + pl.duration(microseconds=pl.col("t"))
    epoch = (pl.lit(int(start.timestamp())) + pl.col("t") // 1_000_000).cast(pl.String)
    dst = pl.when(dns).then(pl.format("10.{}.0.53", pl.col("org") // 16)).otherwise("dst")
    dport = pl.when(dns).then(53).when(ssl).then(443).when(squid).then(80).otherwise("dport")
    url = pl.format("http://{}{}", "domain", "path")
    action = pl.when("allowed").then(pl.lit("allow")).otherwise(pl.lit("deny"))
    raw = (
        pl.when(traffic).then(pl.format("{},{}-fw1,TRAFFIC,end,{},{},{},{},tcp,{},{}", epoch, code,
                                        "src", dst, "sport", dport, action, "bytes"))
        .when(dns).then(pl.format("{}\tC{}\t{}\t{}\t{}\t53\tudp\t{}\tA\tNOERROR", epoch, "t",
                                  "src", "sport", dst, "domain"))
        .when(squid).then(pl.format("{}.000 {} {} TCP_MISS/{} {} GET {} - HIER_DIRECT/{} text/html",
                                    epoch, "sport", "src", "status", "bytes", url, dst))
        .otherwise(pl.format("{}\tC{}\t{}\t{}\t{}\t443\tTLSv13\t{}\t{}", epoch, "t", "src",
                             "sport", dst, "domain", "ja3"))
    )  # fmt: skip
    events = frame.select(
        **{
            "@timestamp": stamp.cast(pl.Datetime("us", "UTC")),
            "event.dataset": dataset,
            "event.action": pl.when(traffic).then(action),
            "event.type": pl.when(traffic).then(
                pl.when("allowed").then(pl.lit("allowed")).otherwise(pl.lit("denied"))
            ),
            "observer.vendor": pl.when(traffic)
            .then(pl.lit("Palo Alto Networks"))
            .when(squid)
            .then(pl.lit("Squid"))
            .otherwise(pl.lit("Zeek")),
            "observer.name": pl.format("{}-sensor", code),
            "source.ip": "src",
            "source.port": "sport",
            "destination.ip": dst,
            "destination.port": dport.cast(pl.Int32),
            "destination.bytes": pl.when(traffic | squid).then("bytes"),
            "network.transport": pl.when(dns).then(pl.lit("udp")).otherwise(pl.lit("tcp")),
            "network.protocol": pl.when(dns)
            .then(pl.lit("dns"))
            .when(ssl)
            .then(pl.lit("ssl"))
            .when(squid)
            .then(pl.lit("http")),
            "url.full": pl.when(squid).then(url),
            "url.domain": pl.when(squid).then("domain"),
            "url.path": pl.when(squid).then("path"),
            "http.request.method": pl.when(squid).then(pl.lit("GET")),
            "http.response.status_code": pl.when(squid).then(pl.col("status").cast(pl.Int32)),
            "user_agent.original": pl.when(squid).then("ua"),
            "dns.question.name": pl.when(dns).then("domain"),
            "dns.question.type": pl.when(dns).then(pl.lit("A")),
            "dns.response_code": pl.when(dns).then(pl.lit("NOERROR")),
            "tls.server.name": pl.when(ssl).then("domain"),
            "tls.client.ja3": pl.when(ssl).then("ja3"),
            "file.hash.sha256": pl.when(squid & pl.col("hashed")).then("hash"),
            "event.original": raw,
            "log.file.path": pl.format("/var/log/{}/{}.log", code, dataset),
            "log.offset": pl.int_range(pl.len(), dtype=pl.Int64).over("org") * 180,
            "organization.id": code,
            "host.ip": "src",
        }
    )
    return conform(events, ARCHIVE_SCHEMA)


def _matches(root: Path, shape: Shape) -> bool:
    marker = root / COMPLETE
    if not marker.is_file():
        return False
    return bool(json.loads(marker.read_text(encoding="utf-8"))["shape"] == asdict(shape))


def build(root: Path, shape: Shape) -> dict[str, object]:
    """Write (or reuse) the archive of ``shape`` under ``root``: the ``days`` days before today.

    Return what was built: files, bytes, seconds it took to generate, and ``end`` (the
    midnight after the last day, UTC, ISO text): a hunt at ``end`` covers it all.
    """
    if _matches(root, shape):
        return dict(json.loads((root / COMPLETE).read_text(encoding="utf-8"))["built"])
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    p = pools(shape.seed)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    files = 0
    samples = []
    for day in range(shape.days):
        midnight = today - timedelta(days=shape.days - day)
        events = day_events(shape, p, day, midnight)
        samples.append(events.sample(min(events.height, SAMPLE_ROWS // shape.days), seed=day))
        day_dir = root / f"day={midnight:%Y-%m-%d}"
        runs = events.group_by("organization.id", maintain_order=True).len()
        table = events.to_arrow(compat_level=pl.CompatLevel.newest())
        first = 0
        for org, rows in runs.iter_rows():
            target = day_dir / f"org={org}" / f"part-cbench{day:03d}.parquet"
            write_atomically(table.slice(first, rows), target, "parquet")
            first += rows
            files += 1
    pl.concat(samples).write_parquet(root.parent / f"{root.name}-sample.parquet")
    built = {
        "files": files,
        "bytes": sum(f.stat().st_size for f in root.rglob("*.parquet")),
        "generate_seconds": time.perf_counter() - started,
        "end": today.isoformat(),
    }
    (root / COMPLETE).write_text(
        json.dumps({"shape": asdict(shape), "built": built}), encoding="utf-8"
    )
    return built


def sample(root: Path) -> pl.DataFrame:
    """Return the events sampled while the archive was written."""
    return pl.read_parquet(root.parent / f"{root.name}-sample.parquet")


def hunted_indicators(seed: int, count: int = 1000) -> pl.DataFrame:
    """Return ``count`` new indicators (type, value), about half of them in the archive of ``seed``.

    The seen ones come from the pools' tails (an indicator that hits is a rare value,
    not the most popular site), so each matches a handful to a few hundred events;
    the unseen ones are addresses, networks, names and hashes no event carries.
    Mix per 1,000: 300 IPv4, 50 networks, 400 domains, 100 URLs, 120 SHA-256, 30 JA3.
    """
    p = pools(seed)
    rng = np.random.default_rng([seed, 9])

    def share(n: int) -> int:
        return n * count // 1000

    def tail(values: pl.Series, n: int, low: float = 0.5) -> list[str]:
        at = rng.choice(np.arange(int(len(values) * low), len(values)), size=n, replace=False)
        return values.gather(pl.Series(at)).to_list()

    unseen_ips = rng.integers(1 << 24, 10 << 24, share(150) + share(25))  # 1/8-9/8: never drawn
    prefixes = rng.choice([16, 20, 22, 24, 24, 26, 28], share(50))
    starts = [
        *(tail(p.ips, share(25))),
        *pl.select(ipv4(pl.lit(pl.Series(unseen_ips[-share(25) :])))).to_series(),
    ]
    networks = [
        f"{ipaddress.ip_network(f'{a}/{n}', strict=False)}"
        for a, n in zip(starts, prefixes, strict=True)
    ]
    domains = tail(p.domains, share(200), 1 / 3)
    unseen_domains = (labels(rng, share(200), 9) + ".bad.example").to_list()
    # Popular sites and paths, so that a few of these exact URLs were requested.
    urls = [
        f"http://{p.domains[int(at) // 10]}{p.paths[int(at) % 10]}"
        for at in rng.choice(1000, share(50), replace=False)
    ]
    unseen_urls = [f"http://{w}.bad.example/x.php" for w in labels(rng, share(50), 9).to_list()]
    rows = (
        [("ipv4", v) for v in tail(p.ips, share(150))]
        + [
            ("ipv4", v)
            for v in pl.select(ipv4(pl.lit(pl.Series(unseen_ips[: share(150)])))).to_series()
        ]
        + [("cidr", v) for v in networks]
        + [("domain", v) for v in domains + unseen_domains]
        + [("url", v) for v in urls + unseen_urls]
        + [("sha256", v) for v in tail(p.sha256, share(60), 0) + _hex(rng, share(60), 64).to_list()]
        + [("ja3", v) for v in tail(p.ja3, share(15)) + _hex(rng, share(15), 32).to_list()]
    )
    return pl.DataFrame(rows, schema={"type": pl.String, "value": pl.String}, orient="row").unique(
        maintain_order=True
    )
