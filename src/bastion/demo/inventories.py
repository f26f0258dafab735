"""Demo inventories: a CycloneDX SBOM per trust and ICB, some with vulnerable Log4j.

Each inventory describes one of the organisation's applications (patient
administration, electronic records, a web portal) with a plausible set of
Java, Python and JavaScript components. A fixed share runs log4j-core at
versions exposed to Log4Shell (2.14.1), to CVE-2021-45105 only (2.16.0), or
fixed (2.17.1), so `bastion exposures list` and an alert preview have something
real to show once the Log4Shell OSV records are imported.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from bastion.orgs import Organisation, OrgType

APPLICATIONS = ("pas", "ehr", "portal")
_LIBRARIES = (
    ("maven", "org.springframework", "spring-core", ("5.2.9", "5.3.18", "5.3.31")),
    ("maven", "com.fasterxml.jackson.core", "jackson-databind", ("2.9.10", "2.12.7", "2.15.3")),
    ("maven", "org.apache.commons", "commons-text", ("1.9", "1.10.0")),
    ("maven", "org.apache.tomcat.embed", "tomcat-embed-core", ("9.0.41", "9.0.83")),
    ("pypi", None, "django", ("3.2.12", "4.2.7")),
    ("pypi", None, "requests", ("2.25.1", "2.31.0")),
    ("npm", None, "lodash", ("4.17.15", "4.17.21")),
    ("npm", None, "express", ("4.17.1", "4.18.2")),
)
LOG4J_VERSIONS = ("2.14.1", "2.16.0", "2.17.1")


def _purl(ecosystem: str, group: str | None, name: str, version: str) -> str:
    return (
        f"pkg:{ecosystem}/{group}/{name}@{version}"
        if group
        else f"pkg:{ecosystem}/{name}@{version}"
    )


def demo_sbom(org: Organisation, application: str, rng: random.Random) -> bytes:
    """Return one application's CycloneDX 1.5 SBOM for ``org``."""
    components = []
    for ecosystem, group, name, versions in _LIBRARIES:
        if rng.random() < 0.7:
            version = rng.choice(versions)
            components.append(
                {"type": "library", "group": group or "", "name": name, "version": version,
                 "purl": _purl(ecosystem, group, name, version)}
            )  # fmt: skip
    if application != "portal" and rng.random() < 0.6:
        version = rng.choice(LOG4J_VERSIONS)
        components.append(
            {"type": "library", "group": "org.apache.logging.log4j", "name": "log4j-core", "version": version,
             "purl": _purl("maven", "org.apache.logging.log4j", "log4j-core", version)}
        )  # fmt: skip
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "component": {
                "type": "application",
                "bom-ref": f"{org.code}-{application}",
                "name": f"{org.name} {application.upper()}",
                "version": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}",
            }
        },
        "components": components,
    }
    return json.dumps(doc, indent=1).encode()


def demo_inventories(orgs: Sequence[Organisation], seed: int = 7) -> list[tuple[str, str, bytes]]:
    """Return (organisation code, inventory name, SBOM) for every trust and ICB."""
    out = []
    for org in sorted(orgs, key=lambda o: o.code):
        if org.type not in (OrgType.TRUST, OrgType.ICB):
            continue
        rng = random.Random(f"{seed}:{org.code}")
        for application in APPLICATIONS[: 1 + rng.randrange(len(APPLICATIONS))]:
            out.append((org.code, f"{application}.cdx.json", demo_sbom(org, application, rng)))
    return out
