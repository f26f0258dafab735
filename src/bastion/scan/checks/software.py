"""Known-exploited software: products and versions from banners, matched as advisories match.

The product and version come from what the target says of itself: SSH, SMTP and
FTP greetings, MySQL's handshake, the web server's ``Server:`` and
``X-Powered-By:`` headers and a page's ``generator`` meta tag. Each is named as
CPE names it (vendor and product) and matched by the advisories context against
the stored vulnerability ranges, with its version logic. A match listed in the
known-exploited (KEV) catalogue is critical; otherwise the vulnerability's own
severity (high at most: unexploited matches from a banner are leads, not proof).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bastion.core.types import Severity
from bastion.scan.checks import web
from bastion.scan.checks.base import Check, Lookups, Probe
from bastion.scan.domain import Evidence, Observation

# How banners name products → (CPE vendor, CPE product, display name).
PRODUCTS: dict[str, tuple[str, str, str]] = {
    "apache": ("apache", "http_server", "Apache HTTP Server"),
    "apache httpd": ("apache", "http_server", "Apache HTTP Server"),
    "nginx": ("f5", "nginx", "nginx"),
    "openssh": ("openbsd", "openssh", "OpenSSH"),
    "microsoft-iis": ("microsoft", "internet_information_services", "Microsoft IIS"),
    "php": ("php", "php", "PHP"),
    "wordpress": ("wordpress", "wordpress", "WordPress"),
    "drupal": ("drupal", "drupal", "Drupal"),
    "exim": ("exim", "exim", "Exim"),
    "proftpd": ("proftpd", "proftpd", "ProFTPD"),
    "vsftpd": ("beasts", "vsftpd", "vsftpd"),
    "mysql": ("oracle", "mysql", "MySQL"),
    "lighttpd": ("lighttpd", "lighttpd", "lighttpd"),
    "apache-coyote": ("apache", "tomcat", "Apache Tomcat"),
    "jetty": ("eclipse", "jetty", "Eclipse Jetty"),
    "openssl": ("openssl", "openssl", "OpenSSL"),
    "confluence": ("atlassian", "confluence_server", "Atlassian Confluence"),
}
_GENERATOR = re.compile(rb'<meta[^>]+name=["\']generator["\'][^>]+content=["\']([^"\']+)', re.I)
_TOKEN = re.compile(r"([A-Za-z][\w-]*(?: [A-Za-z][\w-]*)?)[/ _]v?(\d+(?:\.\d+)+[\w.-]*)")


@dataclass(frozen=True)
class Seen:
    """One product version the target names, and where it said so."""

    port: int
    vendor: str
    product: str
    name: str
    version: str
    source: str


@dataclass(frozen=True)
class SoftwareResult:
    seen: tuple[Seen, ...]


def _known(port: int, text: str, source: str) -> list[Seen]:
    found = []
    for name, version in _TOKEN.findall(text):
        key = name.strip().lower()
        words = key.split()
        product = PRODUCTS.get(key) or PRODUCTS.get(words[0]) or PRODUCTS.get(words[-1])
        if product:
            found.append(Seen(port, product[0], product[1], product[2], version, source))
    return found


async def run(probe: Probe) -> SoftwareResult:
    seen: list[Seen] = []
    for service in probe.services.values():
        if service.banner and service.name != "http":
            seen += _known(
                service.port, service.banner, f"{service.name} banner: {service.banner[:120]}"
            )
        elif service.product and service.version:
            name = f"{service.product}/{service.version}"
            seen += _known(service.port, name, f"Server: {name}")
    for port, tls in probe.web_ports()[:1]:
        response = await web.get(probe, "software", port, tls, "/")
        if response is None:
            continue
        for header in ("server", "x-powered-by"):
            value = response.headers.get(header)
            if value:
                seen += _known(port, value, f"{header}: {value}")
        generator = _GENERATOR.search(response.body)
        if generator:
            text = generator.group(1).decode("latin-1")
            seen += _known(port, text, f'<meta name="generator" content="{text}">')
    unique = {(s.vendor, s.product, s.version, s.port): s for s in seen}
    return SoftwareResult(tuple(unique.values()))


def observe(result: SoftwareResult, probe: Probe, lookups: Lookups) -> list[Observation]:
    products = [(s.vendor, s.product, s.version) for s in result.seen]
    matches = lookups.vulnerabilities(products)
    observations = []
    for seen in result.seen:
        mine = [
            m
            for m in matches
            if (m.vendor, m.product, m.version) == (seen.vendor, seen.product, seen.version)
        ]
        if not mine:
            continue
        kev = any(m.kev for m in mine)
        ranks = {"critical": 3, "high": 3, "medium": 2, "low": 1}
        worst = max(ranks.get((m.severity or "").lower(), 2) for m in mine)
        severity = (
            Severity.CRITICAL
            if kev
            else {3: Severity.HIGH, 2: Severity.MEDIUM}.get(worst, Severity.LOW)
        )
        ids = [m.vulnerability for m in sorted(mine, key=lambda m: (not m.kev, m.vulnerability))]
        observations.append(
            Observation(
                check="software",
                detail=f"{seen.vendor}:{seen.product}",
                title=f"{seen.name} {seen.version} has {'known-exploited ' if kev else ''}vulnerabilities",
                severity=severity,
                port=seen.port,
                evidence=Evidence(
                    probe=f"banner and page markers of {probe.target.address}:{seen.port}",
                    response=f"{seen.source}; matched {', '.join(f'{m.vulnerability} ({m.range})' for m in mine[:10])}",
                ),
                remediation="known_exploited",
                params={
                    "product": seen.name,
                    "version": seen.version,
                    "vulnerabilities": ids[:10],
                    "kev": kev,
                },
                web=True,
            )
        )
    return observations


CHECK = Check(
    name="software",
    title="Known-exploited software",
    run=run,
    observe=observe,
    covers=lambda result, probe: {0},
)
