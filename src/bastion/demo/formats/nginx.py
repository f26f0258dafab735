"""nginx access log in the predefined ``combined`` format, of one member's public web server.

``$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
"$http_referer" "$http_user_agent"``; unset values are ``-``. The combined format
does not name the server, so the whole file is one server's log.
"""

from __future__ import annotations

import polars as pl

from bastion.demo.formats.common import flows, joined, pick, text, timestamp
from bastion.demo.rand import Draw
from bastion.demo.world import SITE_PATHS, USER_AGENT_WEIGHTS, USER_AGENTS, World

REFERRERS = ("-", "https://www.newshub.test/", "https://www.learnpoint.test/search?q=nhs")


def benign(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    """Return benign visits to the web site: mostly pages and assets, a few 404 probes."""
    n = len(ts)
    members = draw.chance(n, 0.2)  # staff of other members visit too
    frame = flows(
        ts=ts,
        src=pl.select(
            pl.when(members).then(world.clients(draw, n)).otherwise(world.internet(draw, n))
        ).to_series(),
        method=pick(draw, n, {"GET": 95.0, "HEAD": 2.0, "POST": 3.0}),
        path=draw.choice(n, SITE_PATHS),
        ua=draw.choice(n, USER_AGENTS, USER_AGENT_WEIGHTS),
        referrer=draw.choice(n, REFERRERS, (70.0, 20.0, 10.0)),
        status=pick(draw, n, {"200": 85.0, "304": 12.0, "301": 3.0}),
        bytes_in=draw.skewed(n, 400_000, 3.0) + 150,
    )
    missing = pl.col("path") == "/wp-login.php"
    return frame.with_columns(
        status=pl.when(missing).then(404).otherwise(pl.col("status")),
        bytes_in=pl.when(missing).then(153).otherwise(pl.col("bytes_in")),
    )


def _escaped(expr: pl.Expr) -> pl.Expr:
    """Escape as nginx does in log variables: ``"`` and ``\\`` become ``\\xHH``."""
    return expr.str.replace_all("\\", "\\x5C", literal=True).str.replace_all(
        '"', "\\x22", literal=True
    )


def render(frame: pl.DataFrame) -> pl.Series:
    """Return the access log lines of a flow frame, in its order."""
    status = pl.col("status").fill_null(200)
    sent = pl.when(status == 304).then(0).otherwise(pl.col("bytes_in").fill_null(0))
    request = pl.concat_str(
        [text("method", "GET"), pl.lit(" "), text("path", "/"), pl.lit(" HTTP/1.1")]
    )
    line = joined(
        [
            text("src"),
            " - - [",
            timestamp("%d/%b/%Y:%H:%M:%S +0000"),
            '] "',
            _escaped(request),
            '" ',
            status.cast(pl.String),
            " ",
            sent.cast(pl.String),
            ' "',
            _escaped(text("referrer", "-")),
            '" "',
            _escaped(text("ua", "-")),
            '"',
        ]
    )
    return frame.select(line.alias("line"))["line"]
