"""Fortinet FortiGate (FortiOS 7) syslog in the default key=value format: traffic and web filter.

A line is ``<PRI>`` then ``key=value`` pairs separated by spaces; text values
are double-quoted, numbers and addresses are not. ``eventtime`` is nanoseconds.
"""

from __future__ import annotations

import polars as pl

from bastion.demo.formats.common import (
    ephemeral_ports,
    flows,
    joined,
    members_to_internet,
    pick,
    text,
    timestamp,
)
from bastion.demo.rand import Draw
from bastion.demo.world import WEB_PATHS, World

DEVICES = {"fgt-bdr-01": "FG1K0F3Z20000101", "fgt-bdr-02": "FG1K0F3Z20000102"}
POLICIES = {  # name: (id, uuid)
    "allow-dns": ("2", "8b0e4c1a-2f3d-51ee-9a10-7c2f4d5e6a02"),
    "allow-outbound": ("3", "8b0e4c1a-2f3d-51ee-9a10-7c2f4d5e6a03"),
    "allow-inbound-servers": ("7", "8b0e4c1a-2f3d-51ee-9a10-7c2f4d5e6a07"),
    "block-threat-feeds": ("12", "8b0e4c1a-2f3d-51ee-9a10-7c2f4d5e6a12"),
    "deny-inbound": ("0", ""),
}
SERVICES = {  # service: (port, transport, weight)
    "HTTPS": (443, "tcp", 60.0),
    "HTTP": (80, "tcp", 15.0),
    "DNS": (53, "udp", 15.0),
    "NTP": (123, "udp", 4.0),
    "SMTP": (25, "tcp", 3.0),
    "SSH": (22, "tcp", 1.0),
}
CATEGORIES = {  # FortiGuard category id: description
    "52": "Information Technology",
    "36": "News and Media",
    "43": "Health and Wellness",
    "31": "Business",
    "41": "Search Engines and Portals",
}


def benign(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    """Return benign FortiGate records: forward traffic both ways and web filter passes."""
    n = len(ts)
    kind = draw.index(n, 3, [70.0, 15.0, 15.0])  # outbound, inbound, web filter
    return pl.concat(
        [
            _outbound(world, draw, ts.filter(kind == 0)),
            _inbound(world, draw, ts.filter(kind == 1)),
            _webfilter(world, draw, ts.filter(kind == 2)),
        ]
    ).sort("ts")


def _outbound(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    n = len(ts)
    frame = flows(
        ts=ts,
        log="traffic",
        **members_to_internet(world, draw, n),
        app=pick(draw, n, {s: w for s, (_, _, w) in SERVICES.items()}),
        action="allow",
        bytes_out=draw.skewed(n, 300_000, 3.0) + 100,
        bytes_in=draw.skewed(n, 6_000_000, 4.0) + 80,
        duration_ms=draw.skewed(n, 120_000, 3.0),
        device=pick(draw, n, dict.fromkeys(DEVICES, 1.0)),
    )
    app = pl.col("app")
    udp = app.is_in(["DNS", "NTP"])
    return frame.with_columns(
        dport=app.replace_strict({s: p for s, (p, _, _) in SERVICES.items()}),
        proto=app.replace_strict({s: t for s, (_, t, _) in SERVICES.items()}),
        rule=pl.when(app == "DNS").then(pl.lit("allow-dns")).otherwise(pl.lit("allow-outbound")),
        bytes_out=pl.when(udp).then(pl.col("bytes_out") % 60 + 60).otherwise(pl.col("bytes_out")),
        bytes_in=pl.when(udp).then(pl.col("bytes_in") % 400 + 90).otherwise(pl.col("bytes_in")),
    )


def _inbound(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    n = len(ts)
    chosen = draw.index(n, len(world.servers))
    frame = flows(
        ts=ts,
        log="traffic",
        src=world.internet(draw, n),
        sport=ephemeral_ports(draw, n),
        dst=pl.Series([s.address for s in world.servers]).gather(chosen),
        dport=draw.ints(n, 1, 10_000),
        proto="tcp",
        bytes_out=draw.skewed(n, 50_000, 3.0) + 200,
        bytes_in=draw.skewed(n, 1_000_000, 4.0) + 200,
        duration_ms=draw.skewed(n, 30_000, 3.0),
        device=pick(draw, n, dict.fromkeys(DEVICES, 1.0)),
        rule=pl.Series(n * ["allow-inbound-servers"]).set(draw.chance(n, 0.3), "deny-inbound"),
    )
    denied = pl.col("rule") == "deny-inbound"
    return frame.with_columns(
        dport=pl.when(denied).then(pl.col("dport")).otherwise(443),
        app=pl.when(denied)
        .then(pl.lit("tcp/") + pl.col("dport").cast(pl.String))
        .otherwise(pl.lit("HTTPS")),
        action=pl.when(denied).then(pl.lit("deny")).otherwise(pl.lit("allow")),
        bytes_in=pl.when(denied).then(0).otherwise(pl.col("bytes_in")),
        bytes_out=pl.when(denied).then(0).otherwise(pl.col("bytes_out")),
        duration_ms=pl.when(denied).then(0).otherwise(pl.col("duration_ms")),
    )


def _webfilter(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    n = len(ts)
    return flows(
        ts=ts,
        log="utm",
        **members_to_internet(world, draw, n),
        dport=443,
        proto="tcp",
        app="HTTPS",
        action="passthrough",
        rule="allow-outbound",
        host=world.web_sites(draw, n),
        path=draw.choice(n, WEB_PATHS),
        category=pick(draw, n, dict.fromkeys(CATEGORIES, 1.0)),
        bytes_out=draw.skewed(n, 20_000, 3.0) + 300,
        bytes_in=draw.skewed(n, 900_000, 4.0) + 500,
        device=pick(draw, n, dict.fromkeys(DEVICES, 1.0)),
    )


def _q(name: str, value: pl.Expr | str) -> list[pl.Expr | str]:
    """Return a quoted ``name="value"`` pair (FortiOS quotes text values)."""
    return [f' {name}="', value, '"']


def _n(name: str, value: pl.Expr | str) -> list[pl.Expr | str]:
    """Return a bare ``name=value`` pair (numbers and addresses)."""
    return [f" {name}=", value]


def render(frame: pl.DataFrame) -> pl.Series:
    """Return the FortiGate syslog lines of a flow frame, in its order."""
    utm = pl.col("log").fill_null("traffic") == "utm"
    action = pl.col("action").fill_null("allow")
    denied = action.is_in(["deny", "blocked"])
    inbound = pl.col("rule").fill_null("").str.contains("inbound")
    policy = text("rule", "allow-outbound")
    out, into = pl.col("bytes_out").fill_null(0), pl.col("bytes_in").fill_null(0)
    device_action = (
        pl.when(utm)
        .then(action)
        .when(denied)
        .then(pl.lit("deny"))
        .when(pl.col("proto") == "udp")
        .then(pl.lit("accept"))
        .otherwise(pl.lit("close"))
    )
    country_src = pl.when(inbound).then(pl.lit("United States")).otherwise(pl.lit("United Kingdom"))
    country_dst = pl.when(inbound).then(pl.lit("United Kingdom")).otherwise(pl.lit("United States"))
    head: list[pl.Expr | str] = [
        "<",
        pl.when(denied).then(pl.lit("188")).otherwise(pl.lit("189")),
        pl.lit(">date="),
        timestamp("%Y-%m-%d"),
        pl.lit(" time="),
        timestamp("%H:%M:%S"),
        *_q("devname", text("device")),
        *_q("devid", text("device").replace_strict(DEVICES, default="FG1K0F3Z20000100")),
        *_n("eventtime", (pl.col("ts") * 1000).cast(pl.String)),
        *_q("tz", "+0000"),
        *_q(
            "logid",
            pl.when(utm)
            .then(pl.when(denied).then(pl.lit("0316013056")).otherwise(pl.lit("0317013312")))
            .otherwise(pl.lit("0000000013")),
        ),
        *_q("type", pl.when(utm).then(pl.lit("utm")).otherwise(pl.lit("traffic"))),
        *_q("subtype", pl.when(utm).then(pl.lit("webfilter")).otherwise(pl.lit("forward"))),
    ]
    utm_fields = [
        *_q("eventtype", pl.when(denied).then(pl.lit("ftgd_blk")).otherwise(pl.lit("ftgd_allow"))),
    ]
    common = [
        *_q("level", pl.when(denied).then(pl.lit("warning")).otherwise(pl.lit("notice"))),
        *_q("vd", "root"),
        *_n("srcip", text("src")),
        *_n("srcport", text("sport", "0")),
        *_q("srcintf", pl.when(inbound).then(pl.lit("port2")).otherwise(pl.lit("port1"))),
        *_q("srcintfrole", pl.when(inbound).then(pl.lit("wan")).otherwise(pl.lit("lan"))),
        *_n("dstip", text("dst")),
        *_n("dstport", text("dport", "0")),
        *_q("dstintf", pl.when(inbound).then(pl.lit("port1")).otherwise(pl.lit("port2"))),
        *_q("dstintfrole", pl.when(inbound).then(pl.lit("lan")).otherwise(pl.lit("wan"))),
        *_q("srccountry", country_src),
        *_q("dstcountry", country_dst),
        *_n("sessionid", (pl.col("ts") // 13 % 4_000_000_000).cast(pl.String)),
        *_n("proto", pl.when(pl.col("proto") == "udp").then(pl.lit("17")).otherwise(pl.lit("6"))),
        *_q("action", device_action),
        *_n("policyid", policy.replace_strict({k: v[0] for k, v in POLICIES.items()}, default="0")),
        *_q("policytype", "policy"),
        *_q("poluuid", policy.replace_strict({k: v[1] for k, v in POLICIES.items()}, default="")),
        *_q("policyname", policy),
        *_q("service", text("app", "HTTPS")),
    ]
    traffic_tail = [
        *_q("trandisp", pl.when(inbound).then(pl.lit("noop")).otherwise(pl.lit("snat"))),
        *_n("duration", (pl.col("duration_ms").fill_null(0) // 1000).cast(pl.String)),
        *_n("sentbyte", out.cast(pl.String)),
        *_n("rcvdbyte", into.cast(pl.String)),
        *_n("sentpkt", (out // 900 + 1).cast(pl.String)),
        *_n("rcvdpkt", (into // 1200 + (into > 0).cast(pl.Int64)).cast(pl.String)),
        *_q("appcat", "unscanned"),
    ]
    url = pl.concat_str([pl.lit("https://"), text("host"), text("path", "/")])
    utm_tail = [
        *_q("hostname", text("host")),
        *_q("profile", "default"),
        *_q("reqtype", "direct"),
        *_q("url", url),
        *_n("sentbyte", out.cast(pl.String)),
        *_n("rcvdbyte", into.cast(pl.String)),
        *_q("direction", "outgoing"),
        *_q("method", "domain"),
        *_n("cat", text("category", "52")),
        *_q("catdesc", text("category", "52").replace_strict(CATEGORIES, default="Unrated")),
    ]
    indexed = frame.with_row_index("_order")
    traffic = indexed.filter(~utm).select("_order", joined([*head, *common, *traffic_tail]))
    webfilter = indexed.filter(utm).select(
        "_order", joined([*head, *utm_fields, *common, *utm_tail])
    )
    return pl.concat([traffic, webfilter]).sort("_order").to_series(1)
