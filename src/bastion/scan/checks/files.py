"""Exposed files and panels: version control, secrets, backups, listings, status pages.

Each path is confirmed by what comes back, never by the status code alone: a
``.git/HEAD`` must read like one, a backup must start with its archive's magic
bytes, a listing must look like a server's index page. A site that answers 200
to everything finds nothing here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bastion.core.types import Severity
from bastion.scan.checks import web
from bastion.scan.checks.base import Check, Lookups, Probe, web_covers
from bastion.scan.domain import Evidence, Observation

_ENV_LINE = re.compile(rb"^[A-Z][A-Z0-9_]{1,60}=", re.MULTILINE)


def _git(body: bytes) -> bool:
    return body.startswith(b"ref: refs/") or bool(re.fullmatch(rb"[0-9a-f]{40}\s*", body))


def _svn(body: bytes) -> bool:
    return body.startswith(b"SQLite format 3") or body.strip().isdigit()


def _env(body: bytes) -> bool:
    return b"<html" not in body[:500].lower() and len(_ENV_LINE.findall(body)) >= 2


def _archive(body: bytes) -> bool:
    return body.startswith((b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"7z\xbc\xaf"))


def _sql(body: bytes) -> bool:
    head = body[:4096].upper()
    return b"<HTML" not in head and any(
        m in head for m in (b"CREATE TABLE", b"INSERT INTO", b"-- MYSQL DUMP")
    )


def _listing(body: bytes) -> bool:
    head = body[:4096].lower()
    return b"<title>index of /" in head or b"directory listing for /" in head


def _server_status(body: bytes) -> bool:
    return b"apache server status for" in body[:8192].lower()


def _panel(marker: bytes) -> Callable[[bytes], bool]:
    return lambda body: marker in body[:16384].lower() and b"<form" in body[:32768].lower()


@dataclass(frozen=True)
class Probed:
    path: str
    detail: str
    what: str
    severity: Severity
    why: str
    confirm: Callable[[bytes], bool]


SECRET = "it may hold passwords, keys or the site's source code, which attackers use to break in further."
PATHS = (
    Probed("/.git/HEAD", "git", "the website's Git repository (.git/)", Severity.HIGH, "the repository holds the site's source code and often passwords and keys.", _git),
    Probed("/.svn/wc.db", "svn", "the website's Subversion working copy (.svn/)", Severity.HIGH, "it holds the site's source code and often passwords.", _svn),
    Probed("/.env", "env", "the website's configuration file (.env)", Severity.HIGH, "it usually holds database passwords and keys to other services.", _env),
    Probed("/backup.zip", "backup", "a backup archive", Severity.HIGH, SECRET, _archive),
    Probed("/backup.tar.gz", "backup", "a backup archive", Severity.HIGH, SECRET, _archive),
    Probed("/site.zip", "backup", "a backup archive", Severity.HIGH, SECRET, _archive),
    Probed("/backup.sql", "backup", "a database dump", Severity.HIGH, "a database dump may hold personal data and password hashes.", _sql),
    Probed("/db.sql", "backup", "a database dump", Severity.HIGH, "a database dump may hold personal data and password hashes.", _sql),
    Probed("/", "listing", "a directory listing", Severity.MEDIUM, "it shows every file in the folder, including ones never meant to be public.", _listing),
    Probed("/backup/", "listing", "a directory listing", Severity.MEDIUM, "it shows every file in the folder, including ones never meant to be public.", _listing),
    Probed("/uploads/", "listing", "a directory listing", Severity.MEDIUM, "it shows every file in the folder, including ones never meant to be public.", _listing),
    Probed("/server-status", "server-status", "the web server's status page", Severity.MEDIUM, "it shows who is using the site and the addresses of internal pages.", _server_status),
    Probed("/phpmyadmin/", "admin-panel", "a phpMyAdmin database console", Severity.MEDIUM, "a database console on the internet invites password guessing; behind it is the whole database.", _panel(b"phpmyadmin")),
    Probed("/adminer.php", "admin-panel", "an Adminer database console", Severity.MEDIUM, "a database console on the internet invites password guessing; behind it is the whole database.", _panel(b"adminer")),
)  # fmt: skip


@dataclass(frozen=True)
class Exposed:
    url: str
    path: str
    detail: str
    excerpt: str


@dataclass(frozen=True)
class FilesResult:
    port: int | None
    exposed: tuple[Exposed, ...]


async def run(probe: Probe) -> FilesResult:
    ports = probe.web_ports()
    if not ports:
        return FilesResult(None, ())
    port, tls = ports[0]
    found = []
    for probed in PATHS:
        response = await web.get(probe, "files", port, tls, probed.path)
        if response is not None and response.status == 200 and probed.confirm(response.body):
            found.append(Exposed(response.url, probed.path, probed.detail, response.excerpt(300)))
    return FilesResult(port, tuple(found))


def observe(result: FilesResult, probe: Probe, lookups: Lookups) -> list[Observation]:
    by_path = {p.path: p for p in PATHS}
    observations = []
    for exposed in result.exposed:
        probed = by_path[exposed.path]
        observations.append(
            Observation(
                check="files",
                detail=f"{probed.detail}:{probed.path}",
                title=f"Exposed {probed.what} at {probed.path}",
                severity=probed.severity,
                port=result.port or 0,
                evidence=Evidence(probe=f"GET {exposed.url}", response=exposed.excerpt),
                remediation="exposed_file",
                params={"what": probed.what, "url": exposed.url, "why": probed.why},
                web=True,
            )
        )
    return observations


CHECK = Check(
    name="files",
    title="Exposed files and panels",
    run=run,
    observe=observe,
    covers=lambda result, probe: web_covers(result, probe) if result.port else set(),
)
