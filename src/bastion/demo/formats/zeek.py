"""Zeek 6 TSV logs: conn, dns, http and ssl (ssl with the JA3 package's ``ja3``/``ja3s`` fields).

Each file opens with Zeek's ``#`` header block (separator, fields, types) and
closes with ``#close``; unset fields are ``-``, empty sets ``(empty)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

import polars as pl

from bastion.demo.formats.common import (
    LogSpec,
    ephemeral_ports,
    epoch_decimal,
    flows,
    joined,
    members_to_internet,
    pick,
    text,
)
from bastion.demo.rand import Draw
from bastion.demo.world import (
    BENIGN_JA3,
    RESOLVERS,
    USER_AGENT_WEIGHTS,
    USER_AGENTS,
    WEB_PATHS,
    World,
)

# (field, Zeek type) per log, in Zeek 6's order.
CONN = (
    ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
    ("id.resp_h", "addr"), ("id.resp_p", "port"), ("proto", "enum"), ("service", "string"),
    ("duration", "interval"), ("orig_bytes", "count"), ("resp_bytes", "count"),
    ("conn_state", "string"), ("local_orig", "bool"), ("local_resp", "bool"),
    ("missed_bytes", "count"), ("history", "string"), ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"), ("resp_pkts", "count"), ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
)  # fmt: skip
DNS = (
    ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
    ("id.resp_h", "addr"), ("id.resp_p", "port"), ("proto", "enum"), ("trans_id", "count"),
    ("rtt", "interval"), ("query", "string"), ("qclass", "count"), ("qclass_name", "string"),
    ("qtype", "count"), ("qtype_name", "string"), ("rcode", "count"), ("rcode_name", "string"),
    ("AA", "bool"), ("TC", "bool"), ("RD", "bool"), ("RA", "bool"), ("Z", "count"),
    ("answers", "vector[string]"), ("TTLs", "vector[interval]"), ("rejected", "bool"),
)  # fmt: skip
HTTP = (
    ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
    ("id.resp_h", "addr"), ("id.resp_p", "port"), ("trans_depth", "count"),
    ("method", "string"), ("host", "string"), ("uri", "string"), ("referrer", "string"),
    ("version", "string"), ("user_agent", "string"), ("origin", "string"),
    ("request_body_len", "count"), ("response_body_len", "count"), ("status_code", "count"),
    ("status_msg", "string"), ("info_code", "count"), ("info_msg", "string"),
    ("tags", "set[enum]"), ("username", "string"), ("password", "string"),
    ("proxied", "set[string]"), ("orig_fuids", "vector[string]"),
    ("orig_filenames", "vector[string]"), ("orig_mime_types", "vector[string]"),
    ("resp_fuids", "vector[string]"), ("resp_filenames", "vector[string]"),
    ("resp_mime_types", "vector[string]"),
)  # fmt: skip
SSL = (
    ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
    ("id.resp_h", "addr"), ("id.resp_p", "port"), ("version", "string"), ("cipher", "string"),
    ("curve", "string"), ("server_name", "string"), ("resumed", "bool"),
    ("last_alert", "string"), ("next_protocol", "string"), ("established", "bool"),
    ("ssl_history", "string"), ("cert_chain_fps", "vector[string]"),
    ("client_cert_chain_fps", "vector[string]"), ("sni_matches_cert", "bool"),
    ("validation_status", "string"), ("ja3", "string"), ("ja3s", "string"),
)  # fmt: skip
QTYPES = {
    "A": ("1", 70.0),
    "AAAA": ("28", 20.0),
    "HTTPS": ("65", 6.0),
    "MX": ("15", 2.0),
    "TXT": ("16", 2.0),
}
STATUS = {
    200: "OK",
    304: "Not Modified",
    301: "Moved Permanently",
    404: "Not Found",
    400: "Bad Request",
}
UID_ALPHABET = pl.Series(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
JA3S = hashlib.md5(b"bastion demo: server hello", usedforsecurity=False).hexdigest()


def with_uid(frame: pl.DataFrame, draw: Draw) -> pl.DataFrame:
    """Give each row a Zeek-style connection uid ("C" and 17 base-62 characters)."""
    chars = [UID_ALPHABET.gather(draw.ints(frame.height, 0, 62)) for _ in range(17)]
    uid = pl.select(pl.concat_str([pl.lit("C"), *[pl.lit(c) for c in chars]])).to_series()
    return frame.with_columns(uid.alias("uid"))


def conn_benign(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    """Return benign connections: members to the internet, some refused or unanswered."""
    n = len(ts)
    service = pick(draw, n, {"ssl": 60.0, "http": 15.0, "dns": 15.0, "-": 10.0})
    frame = flows(
        ts=ts,
        **members_to_internet(world, draw, n),
        app=service,
        bytes_out=draw.skewed(n, 200_000, 3.0) + 40,
        bytes_in=draw.skewed(n, 5_000_000, 4.0) + 40,
        duration_ms=draw.skewed(n, 90_000, 3.0) + 1,
        action=pick(draw, n, {"SF": 85.0, "S0": 6.0, "REJ": 3.0, "RSTO": 6.0}),
    )
    app = pl.col("app")
    return with_uid(
        frame.with_columns(
            dport=app.replace_strict({"ssl": 443, "http": 80, "dns": 53, "-": 8443}),
            proto=pl.when(app == "dns").then(pl.lit("udp")).otherwise(pl.lit("tcp")),
            action=pl.when(app == "dns").then(pl.lit("SF")).otherwise(pl.col("action")),
            bytes_out=pl.when(app == "dns")
            .then(pl.col("bytes_out") % 60 + 30)
            .otherwise(pl.col("bytes_out")),
            bytes_in=pl.when(app == "dns")
            .then(pl.col("bytes_in") % 400 + 60)
            .otherwise(pl.col("bytes_in")),
            duration_ms=pl.when(app == "dns")
            .then(pl.col("duration_ms") % 200 + 1)
            .otherwise(pl.col("duration_ms")),
        ),
        draw,
    )


def dns_benign(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    """Return benign lookups of the synthetic internet's and members' names."""
    n = len(ts)
    frame = flows(
        ts=ts,
        src=world.clients(draw, n),
        sport=ephemeral_ports(draw, n),
        dst=draw.choice(n, RESOLVERS),
        dport=53,
        proto="udp",
        qname=world.web_sites(draw, n),
        qtype=pick(draw, n, {q: w for q, (_, w) in QTYPES.items()}),
        rcode=pick(draw, n, {"NOERROR": 95.0, "NXDOMAIN": 4.0, "SERVFAIL": 1.0}),
        answer=world.internet(draw, n),
        duration_ms=draw.skewed(n, 200, 2.0) + 1,
    )
    return with_uid(frame, draw)


def http_benign(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    """Return benign plain-HTTP requests from members to the internet."""
    n = len(ts)
    frame = flows(
        ts=ts,
        **members_to_internet(world, draw, n),
        dport=80,
        method=pick(draw, n, {"GET": 90.0, "POST": 8.0, "HEAD": 2.0}),
        host=world.web_sites(draw, n),
        path=draw.choice(n, WEB_PATHS),
        ua=draw.choice(n, USER_AGENTS, USER_AGENT_WEIGHTS),
        status=pick(draw, n, {"200": 82.0, "304": 10.0, "301": 4.0, "404": 4.0}),
        bytes_out=draw.skewed(n, 2_000, 2.0),
        bytes_in=draw.skewed(n, 2_000_000, 4.0) + 100,
    )
    return with_uid(frame, draw)


def ssl_benign(world: World, draw: Draw, ts: pl.Series) -> pl.DataFrame:
    """Return benign TLS sessions from members to the internet."""
    n = len(ts)
    frame = flows(
        ts=ts,
        **members_to_internet(world, draw, n),
        dport=443,
        sni=world.web_sites(draw, n),
        ja3=draw.choice(n, BENIGN_JA3),
        category=pick(draw, n, {"TLSv13": 80.0, "TLSv12": 20.0}),
    )
    return with_uid(frame, draw)


def _tsv(
    frame: pl.DataFrame, fields: tuple[tuple[str, str], ...], values: dict[str, pl.Expr | str]
) -> pl.Series:
    columns: list[pl.Expr | str] = []
    for name, _ in fields:
        value = values.get(name, "-")
        columns.append(value if isinstance(value, str) else value.fill_null("-"))
    return frame.select(joined(columns, "\t").alias("line"))["line"]


def _ids() -> dict[str, pl.Expr | str]:
    return {
        "ts": epoch_decimal(),
        "uid": text("uid", "CAAAAAAAAAAAAAAAAA"),
        "id.orig_h": text("src"),
        "id.orig_p": text("sport", "0"),
        "id.resp_h": text("dst"),
        "id.resp_p": text("dport", "0"),
    }


def _seconds(expr: pl.Expr) -> pl.Expr:
    return (expr.cast(pl.Float64) / 1000).round(6).cast(pl.String)


def conn_render(frame: pl.DataFrame) -> pl.Series:
    """Return conn.log lines."""
    out, into = pl.col("bytes_out").fill_null(0), pl.col("bytes_in").fill_null(0)
    state = text("action", "SF")
    answered = state.is_in(["SF", "RSTO"])
    pkts_out, pkts_in = out // 1400 + 1, pl.when(answered).then(into // 1400 + 1).otherwise(0)
    history = (
        pl.when(pl.col("proto") == "udp")
        .then(pl.lit("Dd"))
        .when(state == "S0")
        .then(pl.lit("S"))
        .when(state == "REJ")
        .then(pl.lit("Sr"))
        .when(state == "RSTO")
        .then(pl.lit("ShADadR"))
        .otherwise(pl.lit("ShADadFf"))
    )
    local = pl.col("src").str.contains(r"^(11|21|22)\.")
    values: dict[str, pl.Expr | str] = {
        **_ids(),
        "proto": text("proto", "tcp"),
        "service": text("app", "-"),
        "duration": _seconds(pl.col("duration_ms")),
        "orig_bytes": out.cast(pl.String),
        "resp_bytes": pl.when(answered).then(into).otherwise(0).cast(pl.String),
        "conn_state": state,
        "local_orig": pl.when(local).then(pl.lit("T")).otherwise(pl.lit("F")),
        "local_resp": pl.when(local).then(pl.lit("F")).otherwise(pl.lit("T")),
        "missed_bytes": "0",
        "history": history,
        "orig_pkts": pkts_out.cast(pl.String),
        "orig_ip_bytes": (out + pkts_out * 40).cast(pl.String),
        "resp_pkts": pkts_in.cast(pl.String),
        "resp_ip_bytes": pl.when(answered).then(into + pkts_in * 40).otherwise(0).cast(pl.String),
        "tunnel_parents": "(empty)",
    }
    return _tsv(frame, CONN, values)


def dns_render(frame: pl.DataFrame) -> pl.Series:
    """Return dns.log lines."""
    qtype = text("qtype", "A")
    rcode = text("rcode", "NOERROR")
    answered = (rcode == "NOERROR") & qtype.is_in(["A", "AAAA"])
    values: dict[str, pl.Expr | str] = {
        **_ids(),
        "proto": "udp",
        "trans_id": ((pl.col("ts") // 3) % 65536).cast(pl.String),
        "rtt": _seconds(pl.col("duration_ms")),
        "query": text("qname"),
        "qclass": "1",
        "qclass_name": "C_INTERNET",
        "qtype": qtype.replace_strict({q: c for q, (c, _) in QTYPES.items()}, default="1"),
        "qtype_name": qtype,
        "rcode": rcode.replace_strict(
            {"NOERROR": "0", "SERVFAIL": "2", "NXDOMAIN": "3"}, default="0"
        ),
        "rcode_name": rcode,
        "AA": "F",
        "TC": "F",
        "RD": "T",
        "RA": "T",
        "Z": "0",
        "answers": pl.when(answered & (qtype == "A"))
        .then(text("answer"))
        .when(answered)
        .then(pl.lit("2001:db8:f0a0::1")),
        "TTLs": pl.when(answered).then(pl.lit("300.000000")),
        "rejected": "F",
    }
    return _tsv(frame, DNS, values)


def http_render(frame: pl.DataFrame) -> pl.Series:
    """Return http.log lines."""
    status = pl.col("status").fill_null(200)
    values: dict[str, pl.Expr | str] = {
        **_ids(),
        "trans_depth": "1",
        "method": text("method", "GET"),
        "host": text("host"),
        "uri": text("path", "/"),
        "referrer": pl.col("referrer"),
        "version": "1.1",
        "user_agent": pl.col("ua"),
        "request_body_len": text("bytes_out", "0"),
        "response_body_len": text("bytes_in", "0"),
        "status_code": status.cast(pl.String),
        "status_msg": status.replace_strict(STATUS, default="OK", return_dtype=pl.String),
        "tags": "(empty)",
        "resp_mime_types": pl.when(status == 200).then(text("mime", "text/html")),
    }
    return _tsv(frame, HTTP, values)


def ssl_render(frame: pl.DataFrame) -> pl.Series:
    """Return ssl.log lines."""
    tls13 = text("category", "TLSv13") == "TLSv13"
    values: dict[str, pl.Expr | str] = {
        **_ids(),
        "version": text("category", "TLSv13"),
        "cipher": pl.when(tls13)
        .then(pl.lit("TLS_AES_128_GCM_SHA256"))
        .otherwise(pl.lit("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")),
        "curve": "x25519",
        "server_name": pl.col("sni"),
        "resumed": "F",
        "next_protocol": "h2",
        "established": "T",
        "ssl_history": pl.when(tls13).then(pl.lit("CsiI")).otherwise(pl.lit("CsxknGIi")),
        "cert_chain_fps": "(empty)",
        "client_cert_chain_fps": "(empty)",
        "sni_matches_cert": "T",
        "validation_status": "ok",
        "ja3": pl.col("ja3"),
        "ja3s": pl.lit(JA3S),
    }
    return _tsv(frame, SSL, values)


def _zeek_time(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1e6, UTC).strftime("%Y-%m-%d-%H-%M-%S")


def _header(path: str, fields: tuple[tuple[str, str], ...]) -> Callable[[int], list[str]]:
    def header(start: int) -> list[str]:
        return [
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            f"#path\t{path}",
            f"#open\t{_zeek_time(start)}",
            "#fields\t" + "\t".join(f for f, _ in fields),
            "#types\t" + "\t".join(t for _, t in fields),
        ]

    return header


def _footer(end: int) -> list[str]:
    return [f"#close\t{_zeek_time(end)}"]


def specs(shares: dict[str, float]) -> list[LogSpec]:
    """Return the four Zeek logs of the demo day, each with its share of the benign events."""
    logs = {
        "conn": (conn_benign, conn_render, CONN),
        "dns": (dns_benign, dns_render, DNS),
        "http": (http_benign, http_render, HTTP),
        "ssl": (ssl_benign, ssl_render, SSL),
    }
    return [
        LogSpec(
            "zeek", f"zeek/{name}.log", shares[name], benign, render, _header(name, fields), _footer
        )
        for name, (benign, render, fields) in logs.items()
    ]
