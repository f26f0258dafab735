"""Cisco ASA and netfilter (iptables) lines, rendered from the demo's PAN-OS flow frames.

The demo writes neither format, so the benchmark derives them from the PAN-OS flows
(benign and planted alike), one line per flow, built with Polars string expressions,
never a loop over events. ASA: an allowed flow is a ``302013`` (Built) message and a
``302014``/``302016`` (Teardown) one in turn, a denied one a ``106023`` (Deny); with
their mapped addresses as the ASA writes them. netfilter: a kernel log line with the
prefix the rule logs (``ACCEPT`` or ``DROP``), interfaces, addresses and ports.
"""

from __future__ import annotations

import polars as pl

from bastion.demo.formats.common import timestamp

_ALLOWED = ("allow", "alert")


def _allowed() -> pl.Expr:
    return pl.col("action").fill_null("allow").is_in(_ALLOWED)


def _endpoint(zone: str, address: str, port: str) -> pl.Expr:
    return pl.concat_str(
        pl.lit(f"{zone}:"), pl.col(address), pl.lit("/"), pl.col(port).cast(pl.String)
    )


def render_asa(frame: pl.DataFrame) -> pl.Series:
    """Return one ASA syslog line per flow of ``frame``, in its order."""
    proto = pl.col("proto").fill_null("tcp")
    header = pl.concat_str(
        pl.lit("<166>"),
        timestamp("%b %d %Y %H:%M:%S"),
        pl.lit(" "),
        pl.col("device"),
        pl.lit(" : "),
    )
    inside = _endpoint("inside", "src", "sport")
    outside = _endpoint("outside", "dst", "dport")
    mapped_src = pl.concat_str(
        pl.lit("("), pl.col("src"), pl.lit("/"), pl.col("sport").cast(pl.String), pl.lit(")")
    )
    mapped_dst = pl.concat_str(
        pl.lit("("), pl.col("dst"), pl.lit("/"), pl.col("dport").cast(pl.String), pl.lit(")")
    )
    connection = (pl.col("ts") % 1_000_000_007).cast(pl.String)
    built = pl.concat_str(
        pl.lit("%ASA-6-302013: Built outbound "),
        proto.str.to_uppercase(),
        pl.lit(" connection "),
        connection,
        pl.lit(" for "),
        outside,
        pl.lit(" "),
        mapped_dst,
        pl.lit(" to "),
        inside,
        pl.lit(" "),
        mapped_src,
    )
    teardown = pl.concat_str(
        pl.lit("%ASA-6-302014: Teardown "),
        proto.str.to_uppercase(),
        pl.lit(" connection "),
        connection,
        pl.lit(" for "),
        outside,
        pl.lit(" to "),
        inside,
        pl.lit(" duration 0:00:"),
        ((pl.col("duration_ms").fill_null(0) // 1000) % 60).cast(pl.String).str.zfill(2),
        pl.lit(" bytes "),
        (pl.col("bytes_out").fill_null(0) + pl.col("bytes_in").fill_null(0)).cast(pl.String),
        pl.lit(" TCP FINs"),
    )
    deny = pl.concat_str(
        pl.lit("%ASA-4-106023: Deny "),
        proto,
        pl.lit(" src "),
        inside,
        pl.lit(" dst "),
        outside,
        pl.lit(' by access-group "inside_access_in" [0x0, 0x0]'),
    )
    # Allowed flows alternate between the Built and the Teardown message.
    allowed = pl.when(pl.int_range(pl.len()) % 2 == 0).then(built).otherwise(teardown)
    message = pl.when(_allowed()).then(allowed).otherwise(deny)
    return frame.select(pl.concat_str(header, message).alias("line"))["line"]


def render_iptables(frame: pl.DataFrame) -> pl.Series:
    """Return one netfilter kernel log line per flow of ``frame``, in its order."""
    proto = pl.col("proto").fill_null("tcp").str.to_uppercase()
    uptime = ((pl.col("ts") // 1000) % 100_000_000).cast(pl.String)
    line = pl.concat_str(
        timestamp("%b %d %H:%M:%S"),
        pl.lit(" "),
        pl.col("device"),
        pl.lit(" kernel: ["),
        uptime.str.slice(0, 5).str.pad_start(5),
        pl.lit("."),
        uptime.str.slice(5).str.pad_end(6, "0").str.slice(0, 6),
        pl.lit("] "),
        pl.when(_allowed()).then(pl.lit("ACCEPT")).otherwise(pl.lit("DROP")),
        pl.lit(" IN=eth1 OUT=eth0 MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC="),
        pl.col("src"),
        pl.lit(" DST="),
        pl.col("dst"),
        pl.lit(" LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO="),
        proto,
        pl.lit(" SPT="),
        pl.col("sport").cast(pl.String),
        pl.lit(" DPT="),
        pl.col("dport").cast(pl.String),
        pl.when(proto == "TCP")
        .then(pl.lit(" WINDOW=64240 RES=0x00 SYN URGP=0"))
        .otherwise(pl.lit(" LEN=40")),
    )
    return frame.select(line.alias("line"))["line"]
