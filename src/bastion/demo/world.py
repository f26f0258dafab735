"""Who talks to whom in the demo traffic: members' hosts, their servers, and a synthetic internet.

Nothing here is a real service. The benign internet is the benchmarking range
198.18.0.0/15 and domains under the reserved ``.test`` TLD; attackers live in
the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) and
phishing domains under the reserved ``.example`` TLD, so benign traffic cannot
touch an indicator by accident.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from bastion.core.errors import InputError
from bastion.demo.rand import Draw, ipv4
from bastion.orgs import Organisation, OrgType

INTERNET = ipaddress.IPv4Network("198.18.0.0/15")
RESOLVERS = ("198.18.0.53", "198.18.1.53")

# The demo indicator set: exactly what the planted attacks use.
C2_IPS = ("203.0.113.66", "203.0.113.187")
PHISHING_DOMAINS = (
    "nhs-login-verify.example",
    "secure-nhsmail-update.example",
    "covid-pass-renewal.example",
)
MALICIOUS_JA3 = hashlib.md5(b"bastion demo: implant TLS client", usedforsecurity=False).hexdigest()
JNDI_URL_PATTERN = "*${jndi:*"

# Attackers' other addresses: deliberately not indicators (found by behaviour, not lists).
SCANNER_IP = "198.51.100.23"
EXPLOIT_SOURCES = ("198.51.100.77", "198.51.100.78", "198.51.100.141")
JNDI_CALLBACK = "192.0.2.66"
EXFIL_IP = "192.0.2.200"
JA3_SERVER = "192.0.2.45"
PHISHING_SERVER = "192.0.2.80"

SITE_HEADS = (
    "news", "weather", "cloud", "mail", "maps", "video", "shop", "travel", "sport", "music",
    "docs", "drive", "learn", "journal", "office", "stream", "photo", "forum", "jobs", "recipes",
)  # fmt: skip
SITE_TAILS = ("hub", "daily", "works", "point", "line", "zone", "base", "now", "world", "central")
SUBDOMAINS = ("www", "cdn", "api", "static", "img", "login")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
    "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.50",
    "curl/8.5.0",
)
USER_AGENT_WEIGHTS = (30, 14, 10, 8, 8, 6, 10, 4, 1)
WEB_PATHS = (
    "/", "/index.html", "/news/latest", "/api/v2/status", "/static/js/app.js",
    "/static/css/site.css", "/images/logo.png", "/search?q=opening+times", "/login",
    "/favicon.ico", "/assets/font.woff2", "/feed.xml",
)  # fmt: skip
SITE_PATHS = (
    "/", "/services", "/contact-us", "/our-hospitals", "/careers", "/news",
    "/patients-and-visitors", "/static/main.css", "/static/app.js", "/images/hero.jpg",
    "/robots.txt", "/favicon.ico", "/sitemap.xml", "/wp-login.php",
)  # fmt: skip
BENIGN_JA3 = tuple(
    hashlib.md5(f"bastion demo: browser {n}".encode(), usedforsecurity=False).hexdigest()
    for n in range(12)
)
# How much of the traffic each kind of organisation sends, per organisation.
TYPE_WEIGHTS = {
    OrgType.TRUST: 40.0,
    OrgType.ICB: 6.0,
    OrgType.ARMS_LENGTH_BODY: 6.0,
    OrgType.SUPPLIER: 4.0,
    OrgType.REGION: 2.0,
    OrgType.GP_PRACTICE: 1.0,
    OrgType.CARE_PROVIDER: 0.5,
    OrgType.OTHER: 1.0,
}


@dataclass(frozen=True)
class Server:
    """A member's registered internet-facing host."""

    code: str
    hostname: str
    address: str


def benign_domains() -> list[str]:
    """Return the benign internet's domain names (all under ``.test``)."""
    sites = [f"{h}{t}.test" for h in SITE_HEADS for t in SITE_TAILS]
    return [f"{sub}.{site}" for site in sites for sub in SUBDOMAINS[:3]] + sites


def listed(value: str) -> bool:
    """Tell whether a domain or address is (or is under) one of the demo's indicators."""
    value = value.lower().rstrip(".")
    return value in C2_IPS or any(value == d or value.endswith("." + d) for d in PHISHING_DOMAINS)


class World:
    """Members' address space and servers, and the internet they talk to."""

    def __init__(self, orgs: Sequence[Organisation]) -> None:
        rows = []
        for org in orgs:
            for cidr in org.networks:
                network = ipaddress.ip_network(cidr)
                if network.version == 4 and network.num_addresses >= 8:
                    weight = TYPE_WEIGHTS.get(org.type, 1.0) * min(network.num_addresses, 4096)
                    rows.append((int(network.network_address), network.num_addresses, weight))
        if not rows:
            msg = "the federation has no IPv4 networks to make traffic for: load or generate one"
            raise InputError(msg)
        self.nets = pl.DataFrame(rows, schema=["base", "size", "weight"], orient="row")
        self.servers = [
            Server(org.code, h.hostname, h.address)
            for org in orgs
            for h in org.hosts
            if h.address and ipaddress.ip_address(h.address).version == 4
        ]
        if not self.servers:
            msg = "the federation has no internet-facing hosts with IPv4 addresses"
            raise InputError(msg)
        self.web_servers = [s for s in self.servers if s.hostname.startswith(("www.", "portal."))]
        self.web_servers = self.web_servers or self.servers
        self.domains = pl.Series(benign_domains())

    def clients(self, draw: Draw, n: int) -> pl.Series:
        """Return ``n`` member client addresses, busier organisations more often."""
        index = draw.index(n, self.nets.height, self.nets["weight"].to_list())
        base = self.nets["base"].gather(index)
        span = (self.nets["size"].gather(index) - 2).clip(1, 1000)
        offset = (draw.floats(n) * span).floor().cast(pl.Int64) + 1
        return pl.select(ipv4(pl.lit(base + offset))).to_series().rename("client")

    def internet(self, draw: Draw, n: int) -> pl.Series:
        """Return ``n`` benign internet addresses; a few popular ones dominate."""
        offset = draw.skewed(n, INTERNET.num_addresses - 2, power=4.0) + 1
        base = int(INTERNET.network_address)
        return pl.select(ipv4(pl.lit(offset + base))).to_series().rename("internet")

    def web_sites(self, draw: Draw, n: int) -> pl.Series:
        """Return ``n`` benign web site names of the synthetic internet; a few are popular."""
        return self.domains.gather(draw.skewed(n, len(self.domains), power=2.5))
