"""The attacks planted in the demo day, each labelled with who it targets and where it is logged.

Every attack is a small flow frame for one log file plus a label. Some are
blocked by the device and some get through, so alerts can tell "blocked" from
live; some match a listed indicator and some can only be found by behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bastion.demo.beaconing import plant_behaviour
from bastion.demo.formats.common import flows
from bastion.demo.formats.zeek import with_uid
from bastion.demo.intrusions import behavioural, log4shell
from bastion.demo.plant import HOUR, MINUTE, SECOND, Plant, Targets, plant, spread, times
from bastion.demo.rand import Draw
from bastion.demo.world import C2_IPS, PHISHING_DOMAINS, PHISHING_SERVER, RESOLVERS, Server
from bastion.orgs import Organisation


def plant_attacks(
    orgs: Sequence[Organisation],
    servers: Sequence[Server],
    *,
    seed: int,
    day_start: int,
    events: int,
) -> list[Plant]:
    """Return the demo day's planted attacks, each with its label."""
    draw = Draw(seed, "attacks")
    pick = Targets(orgs, servers, seed)
    plants: list[Plant] = []

    n = 180
    plants.append(
        _c2_beacon(
            pick,
            C2_IPS[0],
            ("panos", "panos.log", "allowed"),
            "HTTPS beacon every 60 s to a listed C2 server; the firewall allowed it",
            ts=times(draw, day_start + 9 * HOUR + 12 * MINUTE, n, MINUTE, 2 * SECOND),
            sport=draw.ints(n, 49152, 65536),
            app="ssl",
            action="allow",
            rule="allow-outbound-web",
            bytes_out=draw.ints(n, 380, 460),
            bytes_in=draw.ints(n, 1100, 1300),
            duration_ms=draw.ints(n, 200, 900),
            device="pa-bdr-01",
        )
    )
    n = 96
    plants.append(
        _c2_beacon(
            pick,
            C2_IPS[1],
            ("fortigate", "fortigate.log", "blocked"),
            "beacon every 5 minutes to a listed C2 server; the firewall denied it",
            ts=times(draw, day_start + 40 * MINUTE, n, 5 * MINUTE, 5 * SECOND),
            sport=draw.ints(n, 49152, 65536),
            app="HTTPS",
            action="deny",
            rule="block-threat-feeds",
            bytes_out=0,
            bytes_in=0,
            duration_ms=0,
            device="fgt-bdr-01",
            log="traffic",
        )
    )

    org = pick.hosted
    host = pick.client(org)
    n = 30
    domain = PHISHING_DOMAINS[0]
    names = [domain, f"login.{domain}", f"mail.{domain}", f"secure.auth.{domain}"]
    frame = with_uid(
        flows(
            ts=spread(draw, day_start + 8 * HOUR + 30 * MINUTE, day_start + 12 * HOUR, n),
            src=host,
            sport=draw.ints(n, 49152, 65536),
            dst=RESOLVERS[0],
            dport=53,
            proto="udp",
            qname=draw.choice(n, names),
            qtype="A",
            rcode="NOERROR",
            answer=PHISHING_SERVER,
            duration_ms=draw.ints(n, 5, 60),
        ),
        draw,
    )
    plants.append(
        plant(
            frame,
            kind="phishing-dns",
            org=org,
            host_ip=host,
            external=[PHISHING_SERVER],
            indicator=("domain", domain),
            fmt="zeek",
            file="zeek/dns.log",
            action="allowed",
            description="lookups of a listed phishing domain and its subdomains from a GP "
            "practice hosted inside another member's network",
        )
    )

    n = 12
    plants.append(
        _phishing_web(
            pick,
            PHISHING_DOMAINS[1],
            "blocked",
            "web requests to a listed phishing site; the proxy denied them",
            ts=spread(draw, day_start + 13 * HOUR, day_start + 13 * HOUR + 30 * MINUTE, n),
            host=f"www.{PHISHING_DOMAINS[1]}",
            path="/owa/auth/logon.aspx",
            method="GET",
            action="TCP_DENIED",
            status=403,
            bytes_in=3920,
            duration_ms=draw.ints(n, 0, 3),
        )
    )
    n = 8
    plants.append(
        _phishing_web(
            pick,
            PHISHING_DOMAINS[2],
            "allowed",
            "a user reached a listed phishing site and posted to its login form",
            ts=spread(draw, day_start + 15 * HOUR, day_start + 15 * HOUR + 20 * MINUTE, n),
            host=f"portal.{PHISHING_DOMAINS[2]}",
            path="/renew/login.php",
            method=draw.choice(n, ["GET", "POST"]),
            action="TCP_MISS",
            status=200,
            bytes_in=draw.ints(n, 4000, 9000),
            duration_ms=draw.ints(n, 80, 400),
        )
    )

    plants += log4shell(draw, pick, day_start)
    plants += behavioural(draw, pick, day_start, events)
    plants += plant_behaviour(pick, seed, day_start)
    return plants


def _phishing_web(
    pick: Targets, domain: str, outcome: str, description: str, **request: Any
) -> Plant:
    """Plant a member's proxied requests to a listed phishing site; ``request`` fills the flows."""
    logged = ("squid", "squid/access.log", outcome)
    indicator = ("domain", domain)
    flow = {"mime": "text/html", **request}
    return _listed(pick, "phishing-web", PHISHING_SERVER, indicator, logged, description, **flow)


def _c2_beacon(
    pick: Targets, c2: str, logged: tuple[str, str, str], description: str, **flow: Any
) -> Plant:
    """Plant a member's client calling listed C2 server ``c2`` on TCP 443; ``flow`` fills the rest."""
    return _listed(
        pick, "c2-beacon", c2, ("ipv4", c2), logged, description, dport=443, proto="tcp", **flow
    )


def _listed(
    pick: Targets,
    kind: str,
    server: str,
    indicator: tuple[str, str],
    logged: tuple[str, str, str],
    description: str,
    **flow: Any,
) -> Plant:
    """Plant a member's client reaching ``server``, where listed ``indicator`` matches.

    ``logged`` says by which parser, in which file, and whether the device blocked it;
    ``flow`` fills the rest of the flows.
    """
    org = pick.member()
    host = pick.client(org)
    fmt, file, outcome = logged
    return plant(
        flows(src=host, dst=server, **flow),
        kind=kind,
        org=org,
        host_ip=host,
        external=[server],
        indicator=indicator,
        fmt=fmt,
        file=file,
        action=outcome,
        description=description,
    )
