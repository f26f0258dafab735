"""Squid's native access.log format (``logformat squid``) of members' web proxies.

``%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt``: time, elapsed
ms, client, result code/status, bytes, method, URL, user, hierarchy/peer, type.
HTTPS goes through as ``CONNECT host:443``.
"""

from __future__ import annotations

import polars as pl

from bastion.demo.formats.common import epoch_decimal, flows, joined, pick, text
from bastion.demo.rand import Draw
from bastion.demo.world import WEB_PATHS, World

MIME = {
    "/": "text/html",
    "/index.html": "text/html",
    "/static/js/app.js": "application/javascript",
    "/static/css/site.css": "text/css",
    "/images/logo.png": "image/png",
    "/feed.xml": "application/rss+xml",
    "/api/v2/status": "application/json",
}


def benign(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    """Return benign proxy requests: mostly HTTPS tunnels, some plain HTTP, a few cache hits."""
    n = len(ts)
    frame = flows(
        ts=ts,
        src=world.clients(draw, n),
        dst=world.internet(draw, n),
        host=world.web_sites(draw, n),
        path=draw.choice(n, WEB_PATHS),
        method=pick(draw, n, {"CONNECT": 70.0, "GET": 27.0, "POST": 3.0}),
        action=pick(draw, n, {"TCP_MISS": 80.0, "TCP_HIT": 12.0, "TCP_REFRESH_UNMODIFIED": 8.0}),
        status=pick(draw, n, {"200": 95.0, "404": 5.0}),
        bytes_in=draw.skewed(n, 3_000_000, 4.0) + 300,
        duration_ms=draw.skewed(n, 60_000, 4.0) + 1,
    )
    tunnel = pl.col("method") == "CONNECT"
    refresh = pl.col("action") == "TCP_REFRESH_UNMODIFIED"
    return frame.with_columns(
        action=pl.when(tunnel).then(pl.lit("TCP_TUNNEL")).otherwise(pl.col("action")),
        status=pl.when(tunnel).then(200).when(refresh).then(304).otherwise(pl.col("status")),
        mime=pl.when(tunnel)
        .then(pl.lit("-"))
        .otherwise(pl.col("path").replace_strict(MIME, default="text/html")),
    )


def render(frame: pl.DataFrame) -> pl.Series:
    """Return the access.log lines of a flow frame, in its order."""
    method = text("method", "GET")
    code = text("action", "TCP_MISS")
    url = (
        pl.when(method == "CONNECT")
        .then(pl.concat_str([text("host"), pl.lit(":"), text("dport", "443")]))
        .otherwise(pl.concat_str([pl.lit("http://"), text("host"), text("path", "/")]))
    )
    hit = code.is_in(["TCP_HIT", "TCP_MEM_HIT"])
    peer = (
        pl.when(code == "TCP_DENIED")
        .then(pl.lit("HIER_NONE/-"))
        .when(hit)
        .then(pl.lit("HIER_NONE/-"))
        .otherwise(pl.concat_str([pl.lit("HIER_DIRECT/"), text("dst", "-")]))
    )
    line = joined(
        [
            epoch_decimal(digits=3),
            " ",
            text("duration_ms", "0").str.pad_start(6),
            " ",
            text("src"),
            " ",
            code,
            "/",
            text("status", "200").str.zfill(3),
            " ",
            text("bytes_in", "0"),
            " ",
            method,
            " ",
            url,
            " - ",
            peer,
            " ",
            text("mime", "-"),
        ]
    )
    return frame.select(line.alias("line"))["line"]
