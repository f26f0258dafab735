"""The demo's own vulnerability records: Log4Shell and a few others its SBOMs can hold.

Written as OSV records (the format `bastion advisories import` reads), with the
real affected ranges of the GitHub advisories, so the demo inventories meet real
exposures without any download. The versions in ``bastion.demo.inventories``
fall inside and outside these ranges on purpose.
"""

from __future__ import annotations

from typing import Any

_LOG4J = {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"}


def _ranges(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, str]] = []
    for introduced, fixed in pairs:
        events += [{"introduced": introduced}, {"fixed": fixed}]
    return [{"type": "ECOSYSTEM", "events": events}]


def _osv(
    ghsa: str,
    cve: str,
    summary: str,
    vector: str,
    package: dict[str, str],
    *pairs: tuple[str, str],
) -> dict[str, Any]:
    return {
        "schema_version": "1.4.0",
        "id": ghsa,
        "aliases": [cve],
        "summary": summary,
        "published": "2021-12-10T00:00:00Z",
        "severity": [{"type": "CVSS_V3", "score": vector}],
        "affected": [{"package": package, "ranges": _ranges(*pairs)}],
        "references": [{"type": "ADVISORY", "url": f"https://nvd.nist.gov/vuln/detail/{cve}"}],
    }


# Log4Shell and its follow-ups: the three release lines (2.0-beta9…, 2.4…, 2.13…) each fixed apart.
DEMO_OSV_RECORDS: tuple[dict[str, Any], ...] = (
    _osv(
        "GHSA-jfh8-c2jp-5v3q", "CVE-2021-44228",
        "Remote code loading in Log4j (Log4Shell)",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", _LOG4J,
        ("2.0-beta9", "2.3.1"), ("2.4", "2.12.2"), ("2.13.0", "2.15.0"),
    ),
    _osv(
        "GHSA-7rjr-3q55-vv33", "CVE-2021-45046",
        "Incomplete fix for Apache Log4j vulnerability",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H", _LOG4J,
        ("2.0-beta9", "2.3.1"), ("2.4", "2.12.2"), ("2.13.0", "2.16.0"),
    ),
    _osv(
        "GHSA-p6xc-xr62-6r2g", "CVE-2021-45105",
        "Apache Log4j2 does not always protect from infinite recursion in lookup evaluation",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", _LOG4J,
        ("2.0-alpha1", "2.3.1"), ("2.4", "2.12.3"), ("2.13.0", "2.17.0"),
    ),
    _osv(
        "GHSA-8489-44mv-ggj8", "CVE-2021-44832",
        "Improper input validation and injection in Apache Log4j2 (JDBC appender)",
        "CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:H", _LOG4J,
        ("2.0-alpha7", "2.3.2"), ("2.4", "2.12.4"), ("2.13.0", "2.17.1"),
    ),
    _osv(
        "GHSA-599f-7c49-w659", "CVE-2022-42889",
        "Arbitrary code execution in Apache Commons Text (Text4Shell)",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        {"ecosystem": "Maven", "name": "org.apache.commons:commons-text"},
        ("1.5", "1.10.0"),
    ),
    _osv(
        "GHSA-57j2-w4cx-62h2", "CVE-2020-36518",
        "Deeply nested json in jackson-databind",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        {"ecosystem": "Maven", "name": "com.fasterxml.jackson.core:jackson-databind"},
        ("0", "2.12.6.1"), ("2.13.0", "2.13.2.1"),
    ),
    _osv(
        "GHSA-35jh-r3h4-6jhm", "CVE-2021-23337",
        "Command injection in lodash",
        "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
        {"ecosystem": "npm", "name": "lodash"},
        ("0", "4.17.21"),
    ),
    _osv(
        "GHSA-j8r2-6x86-q33q", "CVE-2023-32681",
        "Unintended leak of Proxy-Authorization header in requests",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
        {"ecosystem": "PyPI", "name": "requests"},
        ("2.3.0", "2.31.0"),
    ),
    _osv(
        "GHSA-2gwj-7jmv-h26r", "CVE-2022-28346",
        "SQL injection in Django's QuerySet.annotate(), aggregate() and extra()",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        {"ecosystem": "PyPI", "name": "django"},
        ("2.2", "2.2.28"), ("3.2", "3.2.13"), ("4.0", "4.0.4"),
    ),
)  # fmt: skip

# What the demo national alert is about.
LOG4SHELL_CVES = ("CVE-2021-44228", "CVE-2021-45046", "CVE-2021-44832")
