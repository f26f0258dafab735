"""Planted beacons and a DNS tunnel on no indicator list, and benign periodic traffic.

The attacks can only be found by behaviour (``bastion.behaviour``): their
addresses, names and fingerprints are in no indicator the demo lists. The benign
periodic traffic (a time server, a software update check, a monitoring agent)
is as regular as a beacon; ``ALLOWED`` is the allow-list the demo seeds so that
it raises nothing. Every one is labelled: the attacks with their kind, the
benign traffic as ``benign-periodic``.

Randomness comes from its own ``Draw``, so planting these changes no other
attack's events.
"""

from __future__ import annotations

import hashlib

import polars as pl

from bastion.demo.formats.common import flows
from bastion.demo.formats.panos import ALLOWED_TLS_OUT
from bastion.demo.formats.zeek import with_uid
from bastion.demo.plant import HOUR, MINUTE, SECOND, Plant, Targets, plant, times
from bastion.demo.rand import Draw
from bastion.demo.world import RESOLVERS

BEACON_IP = "203.0.113.90"  # HTTPS beacon through the PAN-OS firewall
LOADER_IP = "203.0.113.121"  # TLS beacon seen by Zeek, with its own SNI and JA3
LOADER_SNI = "cdn-sync.assets-cache.example"
LOADER_JA3 = hashlib.md5(b"bastion demo: unlisted loader", usedforsecurity=False).hexdigest()
PROXY_BEACON_DOMAIN = "status.telemetry-relay.example"  # beacon through the web proxy
PROXY_BEACON_IP = "203.0.113.140"
TUNNEL_DOMAIN = "dns-relay.example"  # DNS tunnel: data in the subdomains of this domain
NTP_SERVER = "198.18.4.123"
MONITOR_IP = "198.18.200.10"
UPDATE_DOMAIN = "update.vendorsoft.test"
UPDATE_IP = "198.18.9.9"
BENIGN = "benign-periodic"
# (kind, value, reason): the demo's seeded national allow-list.
ALLOWED = (
    ("address", NTP_SERVER, "the federation's national time server"),
    ("address", MONITOR_IP, "national monitoring agent's collector"),
    ("domain", "vendorsoft.test", "desktop software update checks"),
)
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def _jittered(draw: Draw, start: int, count: int, every: int, share: float) -> pl.Series:
    return times(draw, start, count, every, int(every * share))


def _encoded_names(draw: Draw, n: int) -> pl.Series:
    """Return ``n`` query names carrying base32 data under the tunnel's domain."""
    length = draw.ints(n, 38, 57)
    letters = draw.ints(n * 56, 0, len(_BASE32)).to_list()
    names = []
    for i, size in enumerate(length.to_list()):  # a few dozen names, once: not a hot path
        chunk = "".join(_BASE32[c] for c in letters[i * 56 : i * 56 + size])
        names.append(f"{chunk}.t{i % 7}.{TUNNEL_DOMAIN}")
    return pl.Series(names)


def plant_behaviour(pick: Targets, seed: int, day_start: int) -> list[Plant]:
    """Return the unlisted beacons, the DNS tunnel and the benign periodic traffic, labelled."""
    draw = Draw(seed, "behaviour")
    plants = []

    org = pick.member()
    host = pick.client(org)
    n = 45  # every 30 minutes, 20 % jitter, asleep 00:00-01:30
    frame = flows(
        ts=_jittered(draw, day_start + 90 * MINUTE, n, 30 * MINUTE, 0.2),
        src=host,
        sport=draw.ints(n, 49152, 65536),
        dst=BEACON_IP,
        **ALLOWED_TLS_OUT,
        bytes_out=draw.ints(n, 610, 690),
        bytes_in=draw.ints(n, 1400, 1700),
        duration_ms=draw.ints(n, 150, 600),
        device="pa-bdr-02",
    )
    plants.append(
        plant(frame, kind="beacon", org=org, host_ip=host, external=[BEACON_IP], indicator=None,
              fmt="panos", file="panos.log", action="allowed",
              description="HTTPS beacon every 30 minutes (20 % jitter) to an address on no list")
    )  # fmt: skip

    org = pick.member()
    host = pick.client(org)
    awake = _jittered(draw, day_start + 7 * HOUR, 34, 30 * MINUTE, 0.1)  # wakes at 07:00
    n = len(awake)
    frame = with_uid(
        flows(
            ts=awake,
            src=host,
            sport=draw.ints(n, 49152, 65536),
            dst=LOADER_IP,
            dport=443,
            sni=LOADER_SNI,
            ja3=LOADER_JA3,
            category="TLSv12",
        ),
        draw,
    )
    plants.append(
        plant(frame, kind="beacon", org=org, host_ip=host, external=[LOADER_IP], indicator=None,
              fmt="zeek", file="zeek/ssl.log", action="allowed",
              description="TLS beacon every 30 minutes from 07:00 with an unlisted JA3 and SNI")
    )  # fmt: skip

    org = pick.member()
    host = pick.client(org)
    n = 70  # every 20 minutes, 30 % jitter, through the proxy
    frame = flows(
        ts=_jittered(draw, day_start + 30 * MINUTE, n, 20 * MINUTE, 0.3),
        src=host,
        dst=PROXY_BEACON_IP,
        host=PROXY_BEACON_DOMAIN,
        path="/",
        method="CONNECT",
        action="TCP_TUNNEL",
        status=200,
        mime="-",
        bytes_in=draw.ints(n, 5200, 5600),
        duration_ms=draw.ints(n, 200, 900),
    )
    plants.append(
        plant(frame, kind="beacon", org=org, host_ip=host, external=[PROXY_BEACON_IP],
              indicator=None, fmt="squid", file="squid/access.log", action="allowed",
              description="beacon every 20 minutes (30 % jitter) through the web proxy")
    )  # fmt: skip

    org = pick.member()
    host = pick.client(org)
    n = 90
    frame = with_uid(
        flows(
            ts=draw.ints(n, day_start + 10 * HOUR, day_start + 14 * HOUR).sort(),
            src=host,
            sport=draw.ints(n, 49152, 65536),
            dst=RESOLVERS[1],
            dport=53,
            proto="udp",
            qname=_encoded_names(draw, n),
            qtype="TXT",
            rcode=pl.Series(["NXDOMAIN" if i % 9 == 0 else "NOERROR" for i in range(n)]),
            duration_ms=draw.ints(n, 5, 80),
        ),
        draw,
    )
    plants.append(
        plant(frame, kind="dns-tunnel", org=org, host_ip=host, external=[RESOLVERS[1]],
              indicator=None, fmt="zeek", file="zeek/dns.log", action="allowed",
              description=f"data sent in {n} long random subdomains of {TUNNEL_DOMAIN}")
    )  # fmt: skip
    return plants + _benign(draw, pick, day_start)


def _benign(draw: Draw, pick: Targets, day_start: int) -> list[Plant]:
    org = pick.member()
    host = pick.client(org)
    n = 84  # NTP every 1024 s, all day
    ntp = with_uid(
        flows(
            ts=_jittered(draw, day_start + 5 * SECOND, n, 1024 * SECOND, 0.01),
            src=host, sport=123, dst=NTP_SERVER, dport=123, proto="udp", app="ntp",
            bytes_out=48, bytes_in=48, duration_ms=draw.ints(n, 1, 30), action="SF",
        ),
        draw,
    )  # fmt: skip
    m = 96  # a monitoring agent reporting every 15 minutes
    monitor = flows(
        ts=_jittered(draw, day_start + 20 * SECOND, m, 15 * MINUTE, 0.02),
        src=host, sport=draw.ints(m, 49152, 65536), dst=MONITOR_IP, dport=8443, proto="tcp",
        app="ssl", action="allow", rule="allow-monitoring", bytes_out=draw.ints(m, 880, 960),
        bytes_in=draw.ints(m, 200, 260), duration_ms=draw.ints(m, 20, 90), device="pa-bdr-01",
    )  # fmt: skip
    k = 24  # an hourly update check through the proxy
    update = flows(
        ts=_jittered(draw, day_start + 17 * MINUTE, k, HOUR, 0.03),
        src=host, dst=UPDATE_IP, host=UPDATE_DOMAIN, path="/check", method="GET",
        action="TCP_MISS", status=200, mime="application/json", bytes_in=draw.ints(k, 700, 760),
        duration_ms=draw.ints(k, 40, 200),
    )  # fmt: skip

    def benign(frame: pl.DataFrame, address: str, fmt: str, file: str, what: str) -> Plant:
        return plant(frame, kind=BENIGN, org=org, host_ip=host, external=[address],
                     indicator=None, fmt=fmt, file=file, action="allowed",
                     description=f"not an attack: {what}")  # fmt: skip

    return [
        benign(ntp, NTP_SERVER, "zeek", "zeek/conn.log", "NTP to the national time server"),
        benign(monitor, MONITOR_IP, "panos", "panos.log", "the monitoring agent, every 15 minutes"),
        benign(update, UPDATE_IP, "squid", "squid/access.log", "hourly software update check"),
    ]
