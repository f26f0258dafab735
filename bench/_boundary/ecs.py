"""ECS JSON lines, nested as Filebeat writes them, rendered from the demo's flow frames.

The demo writes no ECS file, so the benchmark derives one from the PAN-OS flows
(benign and planted alike): one JSON object per flow, built with Polars struct
expressions and encoded in one call, never a loop over events.
"""

from __future__ import annotations

import polars as pl

from bastion.demo.formats.common import timestamp

WEB_APPS = ("web-browsing",)
TLS_APPS = ("ssl", "ms-office365")
ABSENT = r',"(?:url|user_agent|tls)":null\b'


def _present(condition: pl.Expr, value: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(value)


def render(frame: pl.DataFrame) -> pl.Series:
    """Return one ECS JSON line per flow of ``frame``, in its order."""
    app, action = pl.col("app"), pl.col("action").fill_null("allow")
    allowed = action.is_in(["allow", "alert"])
    web = app.is_in(WEB_APPS) & pl.col("host").is_not_null()
    tls = app.is_in(TLS_APPS) & pl.col("host").is_not_null()
    full = pl.concat_str(pl.lit("http://"), pl.col("host"), pl.col("path").fill_null("/"))
    record = pl.struct(
        timestamp("%Y-%m-%dT%H:%M:%S%.3fZ").alias("@timestamp"),
        pl.struct(
            pl.lit("panw.panos").alias("dataset"),
            action.alias("action"),
            pl.concat_list(
                pl.lit("connection"),
                pl.when(allowed).then(pl.lit("allowed")).otherwise(pl.lit("denied")),
            ).alias("type"),
        ).alias("event"),
        pl.struct(
            pl.lit("Palo Alto Networks").alias("vendor"),
            pl.lit("PAN-OS").alias("product"),
            pl.col("device").alias("name"),
        ).alias("observer"),
        pl.struct(
            pl.col("src").alias("ip"),
            pl.col("sport").alias("port"),
            pl.col("bytes_out").alias("bytes"),
        ).alias("source"),
        pl.struct(
            pl.col("dst").alias("ip"),
            pl.col("dport").alias("port"),
            pl.col("bytes_in").alias("bytes"),
        ).alias("destination"),
        pl.struct(
            pl.col("proto").alias("transport"),
            app.alias("protocol"),
            (pl.col("bytes_out").fill_null(0) + pl.col("bytes_in").fill_null(0)).alias("bytes"),
        ).alias("network"),
        _present(
            web,
            pl.struct(
                full.alias("full"),
                pl.col("host").alias("domain"),
                pl.col("path").fill_null("/").alias("path"),
            ),
        ).alias("url"),
        _present(web, pl.struct(pl.col("ua").alias("original"))).alias("user_agent"),
        _present(tls, pl.struct(pl.struct(pl.col("host").alias("name")).alias("server"))).alias(
            "tls"
        ),
        pl.struct(pl.col("rule").alias("name")).alias("rule"),
    )
    # Filebeat leaves out what an event lacks rather than writing null.
    line = record.struct.json_encode().str.replace_all(ABSENT, "")
    return frame.select(line.alias("line"))["line"]
