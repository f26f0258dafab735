"""Palo Alto Networks PAN-OS syslog: CSV TRAFFIC and THREAT records (the PAN-OS 9.1 field lists).

Each line is a BSD syslog header (``<14>Jun  2 09:00:01 pa-bdr-01``) and the
comma-separated record; fields holding commas or quotes are quoted as CSV, and
the URL, User-Agent and Referer of THREAT records are always quoted, as PAN-OS does.
"""

from __future__ import annotations

import polars as pl

from bastion.demo.formats.common import (
    csv_field,
    ephemeral_ports,
    flows,
    joined,
    pick,
    text,
    timestamp,
)
from bastion.demo.rand import Draw
from bastion.demo.world import USER_AGENT_WEIGHTS, USER_AGENTS, WEB_PATHS, World

DEVICES = {"pa-bdr-01": "013201001101", "pa-bdr-02": "013201001102", "pa-bdr-03": "013201001103"}
RULE_UUIDS = {
    "allow-outbound-web": "5f1c0d2e-6a41-4b8e-9d7a-0c3e2b1a9f01",
    "allow-dns": "5f1c0d2e-6a41-4b8e-9d7a-0c3e2b1a9f02",
    "allow-inbound-servers": "5f1c0d2e-6a41-4b8e-9d7a-0c3e2b1a9f03",
    "deny-default": "5f1c0d2e-6a41-4b8e-9d7a-0c3e2b1a9f04",
    "block-p2p": "5f1c0d2e-6a41-4b8e-9d7a-0c3e2b1a9f05",
}
# A member's HTTPS session out that the firewall allowed under its web rule.
ALLOWED_TLS_OUT = {
    "dport": 443,
    "proto": "tcp",
    "app": "ssl",
    "action": "allow",
    "rule": "allow-outbound-web",
}
OUTBOUND_APPS = {  # app: (port, transport, weight)
    "ssl": (443, "tcp", 50.0),
    "web-browsing": (80, "tcp", 15.0),
    "ms-office365": (443, "tcp", 10.0),
    "dns": (53, "udp", 12.0),
    "ntp": (123, "udp", 3.0),
    "smtp": (25, "tcp", 2.0),
    "bittorrent": (6881, "tcp", 1.0),
}
URL_CATEGORIES = {
    "computer-and-internet-info": 30.0,
    "news": 15.0,
    "health-and-medicine": 20.0,
    "business-and-economy": 15.0,
    "search-engines": 10.0,
    "streaming-media": 10.0,
}


def benign(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    """Return benign PAN-OS records: members' sessions out, the internet's in, URL filtering."""
    outbound = draw.chance(len(ts), 0.72)
    return pl.concat(
        [_outbound(world, draw, ts.filter(outbound)), _inbound(world, draw, ts.filter(~outbound))]
    ).sort("ts")


def _outbound(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    n = len(ts)
    frame = flows(
        ts=ts,
        src=world.clients(draw, n),
        dst=world.internet(draw, n),
        sport=ephemeral_ports(draw, n),
        app=pick(draw, n, {a: w for a, (_, _, w) in OUTBOUND_APPS.items()}),
        bytes_out=draw.skewed(n, 400_000, 3.0) + 120,
        bytes_in=draw.skewed(n, 8_000_000, 4.0) + 60,
        duration_ms=draw.skewed(n, 180_000, 3.0),
        device=pick(draw, n, dict.fromkeys(DEVICES, 1.0)),
        host=world.web_sites(draw, n),
        path=draw.choice(n, WEB_PATHS),
        ua=draw.choice(n, USER_AGENTS, USER_AGENT_WEIGHTS),
        category=pick(draw, n, URL_CATEGORIES),
        method="GET",
        severity="informational",
        log=pl.Series(n * ["TRAFFIC"]).set(draw.chance(n, 0.15), "THREAT"),
    )
    app, udp, url = pl.col("app"), pl.col("app").is_in(["dns", "ntp"]), pl.col("log") == "THREAT"
    frame = frame.with_columns(
        # A URL filtering record (THREAT, subtype url) is of a plain web session.
        app=pl.when(url).then(pl.lit("web-browsing")).otherwise(app),
        bytes_out=pl.when(udp).then(pl.col("bytes_out") % 60 + 60).otherwise(pl.col("bytes_out")),
        bytes_in=pl.when(udp).then(pl.col("bytes_in") % 400 + 90).otherwise(pl.col("bytes_in")),
        duration_ms=pl.when(udp).then(pl.col("duration_ms") % 900).otherwise(pl.col("duration_ms")),
        threat_kind=pl.when(url).then(pl.lit("url")),
        threat=pl.when(url).then(pl.lit("(9999)")),
    )
    return frame.with_columns(
        dport=app.replace_strict({a: p for a, (p, _, _) in OUTBOUND_APPS.items()}),
        proto=app.replace_strict({a: t for a, (_, t, _) in OUTBOUND_APPS.items()}),
        action=pl.when(url)
        .then(pl.lit("alert"))
        .when(app == "bittorrent")
        .then(pl.lit("deny"))
        .otherwise(pl.lit("allow")),
        rule=app.replace_strict(
            {"dns": "allow-dns", "bittorrent": "block-p2p"}, default="allow-outbound-web"
        ),
        bytes_in=pl.when(app == "bittorrent").then(0).otherwise(pl.col("bytes_in")),
    )


def _inbound(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    n = len(ts)
    chosen = draw.index(n, len(world.servers))
    is_mail = pl.Series([s.hostname.startswith("mail.") for s in world.servers]).gather(chosen)
    frame = flows(
        ts=ts,
        src=world.internet(draw, n),
        dst=pl.Series([s.address for s in world.servers]).gather(chosen),
        sport=ephemeral_ports(draw, n),
        dport=draw.ints(n, 1, 10_000),
        proto="tcp",
        bytes_out=draw.skewed(n, 60_000, 3.0) + 300,
        bytes_in=draw.skewed(n, 2_000_000, 4.0) + 200,
        duration_ms=draw.skewed(n, 60_000, 3.0),
        device=pick(draw, n, dict.fromkeys(DEVICES, 1.0)),
        rule=pl.Series(n * ["allow-inbound-servers"]).set(draw.chance(n, 0.2), "deny-default"),
    )
    denied = pl.col("rule") == "deny-default"
    return frame.with_columns(
        # Unsolicited connections to other ports are denied; mail and web are allowed.
        dport=pl.when(denied).then(pl.col("dport")).when(pl.lit(is_mail)).then(25).otherwise(443),
        app=pl.when(denied)
        .then(pl.lit("incomplete"))
        .when(pl.lit(is_mail))
        .then(pl.lit("smtp"))
        .otherwise(pl.lit("ssl")),
        action=pl.when(denied).then(pl.lit("deny")).otherwise(pl.lit("allow")),
        bytes_in=pl.when(denied).then(0).otherwise(pl.col("bytes_in")),
        duration_ms=pl.when(denied).then(0).otherwise(pl.col("duration_ms")),
    )


def _common(kind: str) -> list[pl.Expr | str]:
    """Return fields 0-30, shared by TRAFFIC and THREAT records."""
    when = pl.col("_generated")
    inbound = pl.col("rule").fill_null("").str.contains("inbound")
    untrust, trust = pl.lit("untrust"), pl.lit("trust")
    return [
        "1",
        pl.col("_received"),
        text("device").replace_strict(DEVICES, default="013201001100"),
        pl.lit(kind),
        text("threat_kind") if kind == "THREAT" else _traffic_subtype(),
        "2561",
        when,
        text("src"),
        text("dst"),
        "0.0.0.0",
        "0.0.0.0",
        text("rule", "allow-outbound-web"),
        "",
        "",
        text("app", "ssl"),
        "vsys1",
        pl.when(inbound).then(untrust).otherwise(trust),
        pl.when(inbound).then(trust).otherwise(untrust),
        pl.when(inbound).then(pl.lit("ethernet1/2")).otherwise(pl.lit("ethernet1/1")),
        pl.when(inbound).then(pl.lit("ethernet1/1")).otherwise(pl.lit("ethernet1/2")),
        "forward-to-bastion",
        when,
        (pl.col("ts") // 7 % 4_000_000_000).cast(pl.String),
        "1",
        text("sport", "0"),
        text("dport", "0"),
        "0",
        "0",
        "0x400000",
        text("proto", "tcp"),
        text("action", "allow"),
    ]


def _traffic_subtype() -> pl.Expr:
    action = pl.col("action").fill_null("allow")
    return (
        pl.when(action == "allow")
        .then(pl.lit("end"))
        .when(action == "drop")
        .then(pl.lit("drop"))
        .otherwise(pl.lit("deny"))
    )


def _location(column: str) -> pl.Expr:
    member = pl.col(column).str.contains(r"^(11|21|22)\.")
    return pl.when(member).then(pl.lit("United Kingdom")).otherwise(pl.lit("United States"))


def _traffic(frame: pl.DataFrame) -> pl.Series:
    out, into = pl.col("bytes_out").fill_null(0), pl.col("bytes_in").fill_null(0)
    pkts_out = pl.col("pkts_out").fill_null(out // 900 + 1)
    pkts_in = pl.col("pkts_in").fill_null(into // 1200 + (into > 0).cast(pl.Int64))
    elapsed = pl.col("duration_ms").fill_null(0)
    action = pl.col("action").fill_null("allow")
    end_reason = (
        pl.when(action != "allow")
        .then(pl.lit("policy-deny"))
        .when(pl.col("proto") == "udp")
        .then(pl.lit("aged-out"))
        .otherwise(pl.lit("tcp-fin"))
    )
    fields: list[pl.Expr | str] = [
        *_common("TRAFFIC"),
        (out + into).cast(pl.String),
        out.cast(pl.String),
        into.cast(pl.String),
        (pkts_out + pkts_in).cast(pl.String),
        pl.from_epoch(pl.col("ts") - elapsed * 1000, time_unit="us").dt.strftime(
            "%Y/%m/%d %H:%M:%S"
        ),
        (elapsed // 1000).cast(pl.String),
        text("category", "any"),
        "0",
        pl.col("ts").cast(pl.String),
        "0x0",
        _location("src"),
        _location("dst"),
        "0",
        pkts_out.cast(pl.String),
        pkts_in.cast(pl.String),
        end_reason,
        *["0"] * 4,
        "",
        text("device"),
        "from-policy",
        "",
        "",
        "0",
        "",
        "0",
        "",
        "N/A",
        *["0"] * 4,
        text("rule").replace_strict(RULE_UUIDS, default=""),
        "0",
        "0",
        "",
        "0",
        *[""] * 5,
    ]
    return _lines(frame, fields)


def _threat(frame: pl.DataFrame) -> pl.Series:
    url = pl.concat_str([text("host"), text("path", "/")])
    fields: list[pl.Expr | str] = [
        *_common("THREAT"),
        csv_field(url, always=True),
        csv_field(text("threat", "(9999)")),
        text("category", "any"),
        text("severity", "informational"),
        "client-to-server",
        pl.col("ts").cast(pl.String),
        "0x0",
        _location("src"),
        _location("dst"),
        "0",
        text("mime", "text/html"),
        "0",
        "",
        "",
        "1",
        csv_field(text("ua"), always=True),
        "",
        "",
        csv_field(text("referrer"), always=True),
        "",
        "",
        "",
        "0",
        *["0"] * 4,
        "",
        text("device"),
        "",
        "",
        "",
        text("method", "get").str.to_lowercase(),
        "0",
        "",
        "0",
        "",
        "N/A",
        pl.when(pl.col("threat_kind") == "url")
        .then(pl.lit("unknown"))
        .otherwise(pl.lit("code-execution")),
        "AppThreat-8845-8602",
        "0",
        "0",
        "0",
        "",
        "",
        text("rule").replace_strict(RULE_UUIDS, default=""),
        "0",
        "",
    ]
    return _lines(frame, fields)


def _lines(frame: pl.DataFrame, fields: list[pl.Expr | str]) -> pl.Series:
    header = joined(["<14>", pl.col("_syslog_time"), " ", text("device"), " "])
    return frame.select(pl.concat_str([header, joined(fields, ",")]).alias("line")).to_series()


def render(frame: pl.DataFrame) -> pl.Series:
    """Return the PAN-OS syslog lines of a flow frame, in its order."""
    # Format each timestamp once: strftime is the dearest expression here.
    indexed = frame.with_row_index("_order").with_columns(
        _generated=timestamp("%Y/%m/%d %H:%M:%S"),
        _received=timestamp("%Y/%m/%d %H:%M:%S", shift_us=1_000_000),
        _syslog_time=timestamp("%b %e %H:%M:%S", shift_us=1_000_000),
    )
    is_threat = pl.col("log").fill_null("TRAFFIC") == "THREAT"
    traffic = indexed.filter(~is_threat)
    threat = indexed.filter(is_threat)
    parts = pl.concat(
        [
            pl.DataFrame({"_order": traffic["_order"], "line": _traffic(traffic)}),
            pl.DataFrame({"_order": threat["_order"], "line": _threat(threat)}),
        ]
    )
    return parts.sort("_order")["line"]
