"""Inventories: CycloneDX JSON/XML, SPDX JSON, CSV; purls and CPEs; bad SBOMs."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.advisories.conftest import cyclonedx, log4j_core
from tests.advisories.test_importers import CVE5

from bastion.advisories.exposure import import_inventory
from bastion.advisories.feeds import import_intel
from bastion.advisories.holdings import list_exposures, list_inventories
from bastion.advisories.importers import parse_intel
from bastion.advisories.inventory import parse_inventory
from bastion.advisories.packages import parse_cpe, parse_purl
from bastion.audit import Actor
from bastion.core.errors import FormatError, InputError, NotFoundError
from bastion.store import Store

SPDX = {
    "spdxVersion": "SPDX-2.3",
    "dataLicense": "CC0-1.0",
    "SPDXID": "SPDXRef-DOCUMENT",
    "name": "pas-web",
    "documentNamespace": "https://example.nhs.uk/spdx/pas-web-1",
    "documentDescribes": ["SPDXRef-pas"],
    "packages": [
        {"SPDXID": "SPDXRef-pas", "name": "pas-web", "versionInfo": "4.1"},
        {
            "SPDXID": "SPDXRef-log4j",
            "name": "log4j-core",
            "versionInfo": "2.14.1",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                }
            ],
        },
        {"SPDXID": "SPDXRef-x", "name": "mystery", "versionInfo": "NOASSERTION"},
    ],
}


def test_purl_normalisation() -> None:
    a = parse_purl("pkg:maven/Org.Apache.Logging.Log4j/Log4j-Core@2.14.1?type=jar&classifier=x")
    b = parse_purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?classifier=x&type=jar")
    assert (a.ecosystem, a.name, a.version) == (
        "maven",
        "org.apache.logging.log4j:log4j-core",
        "2.14.1",
    )
    assert (
        a.purl
        == b.purl
        == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?classifier=x&type=jar"
    )
    assert parse_purl("pkg:pypi/Django_REST.framework@3.0").name == "django-rest-framework"
    assert parse_purl("pkg:npm/%40angular/core@16.0.0").name == "@angular/core"
    deb = parse_purl(
        "pkg:deb/debian/libssl1.1@1.1.0l-1~deb9u1?arch=amd64&upstream=openssl&distro=debian-9"
    )
    assert (deb.ecosystem, deb.name) == ("deb", "openssl")  # advisories name the source package
    with pytest.raises(InputError, match="invalid package URL"):
        parse_purl("maven:log4j")


def test_cpe_parsing() -> None:
    cpe = parse_cpe(r"cpe:2.3:a:apache:http\:server:2.4.49:*:*:*:*:*:*:*")
    assert (cpe.part, cpe.vendor, cpe.product, cpe.version) == (
        "a",
        "apache",
        "http:server",
        "2.4.49",
    )
    assert parse_cpe("cpe:2.3:o:microsoft:windows_10:*:*:*:*:*:*:*:*").version is None
    with pytest.raises(InputError, match="invalid CPE"):
        parse_cpe("cpe:/a:apache:http_server:2.4")


@given(st.text(max_size=60))
def test_purl_and_cpe_parsers_never_crash(text: str) -> None:
    for parse in (parse_purl, parse_cpe):
        with contextlib.suppress(InputError):
            parse(text)


def test_cyclonedx_xml_real_syft_sboms(shared_data: Path) -> None:
    alpine = parse_inventory(
        (shared_data / "sbom" / "alpine.cdx.xml").read_bytes(), "alpine.cdx.xml"
    )
    assert (alpine.format, alpine.spec_version, len(alpine.components)) == (
        "cyclonedx-xml",
        "1.4",
        16,
    )
    musl = next(c for c in alpine.components if c.name == "musl")
    assert musl.ecosystem == "apk"
    assert musl.cpe_package is not None
    debian = parse_inventory(
        (shared_data / "sbom" / "postgres-stretch.cdx.xml").read_bytes(), "pg.xml"
    )
    assert len(debian.components) == 137
    assert {c.ecosystem for c in debian.components} >= {"deb"}
    assert debian.rejects == []


def test_spdx_json_root_and_rejects() -> None:
    inventory = parse_inventory(json.dumps(SPDX).encode(), "pas.spdx.json")
    assert inventory.format == "spdx-json"
    assert (inventory.root_name, inventory.root_version) == ("pas-web", "4.1")
    assert [c.package for c in inventory.components] == ["org.apache.logging.log4j:log4j-core"]
    assert [(r.name, r.reason) for r in inventory.rejects] == [
        ("mystery", "component has no version, so no range can be checked")
    ]


def test_csv_inventory_vendor_product_purl_cpe() -> None:
    text = (
        "vendor,product,version,purl,cpe\n"
        "Example Corp,Edge Gateway,7.1,,\n"
        ",,,pkg:maven/org.apache.logging.log4j/log4j-core@2.16.0,\n"
        ",,,,cpe:2.3:o:example:gateway_os:3.9:*:*:*:*:*:*:*\n"
        "Example Corp,Switch,,,\n"
    )
    inventory = parse_inventory(text.encode(), "assets.csv")
    keys = [(c.ecosystem, c.package, c.version) for c in inventory.components]
    assert keys == [
        ("cpe", "example_corp:edge_gateway", "7.1"),
        ("maven", "org.apache.logging.log4j:log4j-core", "2.16.0"),
        ("cpe", "example:gateway_os", "3.9"),
    ]
    assert [(r.index, r.name) for r in inventory.rejects] == [(5, "Switch")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.4", ', "not valid JSON"),
        (
            b"<bom xmlns='http://cyclonedx.org/schema/bom/1.4'><components>",
            "not valid XML",
        ),
        (cyclonedx([], spec="1.1"), "unknown CycloneDX spec version '1.1'"),
        (cyclonedx([], spec="2.0"), "unknown CycloneDX spec version '2.0'"),
        (
            b"<bom xmlns='http://cyclonedx.org/schema/bom/1.0'/>",
            "unknown CycloneDX spec version '1.0'",
        ),
        (json.dumps({**SPDX, "spdxVersion": "SPDX-3.0"}).encode(), "unknown SPDX version"),
        (
            b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><bom>&b;</bom>',
            "not safe XML: a DTD",
        ),
        (  # an external DTD, even one that declares nothing, is refused before any fetch
            b'<?xml version="1.0"?><!DOCTYPE bom SYSTEM "http://127.0.0.1:9/bom.dtd">'
            b"<bom xmlns='http://cyclonedx.org/schema/bom/1.4'/>",
            r"not safe XML: a DTD \(<!DOCTYPE bom \.\.\.>\) is not accepted",
        ),
        (b"hello,world\n1,2\n", "CSV inventory needs a header"),
    ],
)
def test_bad_sbom_is_rejected_whole(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_inventory(data, "bad")


def test_bad_sbom_loses_nothing_held(log4shell: Store) -> None:
    with log4shell.session() as session:
        import_inventory(
            session, "RAA", cyclonedx([log4j_core("2.14.1")]), "app.json", actor=Actor.cli("test")
        )
    with pytest.raises(FormatError), log4shell.session() as session:
        import_inventory(
            session,
            "RAA",
            cyclonedx([log4j_core("2.17.1")], spec="9.9"),
            "app.json",
            actor=Actor.cli("test"),
        )
    with log4shell.session() as session:
        [held] = list_inventories(session, "RAA")
        exposed = {e.vulnerability for e in list_exposures(session, org="RAA", status="affected")}
    assert held.components == 1
    assert len(exposed) == 3


def test_components_without_versions_are_reported_and_the_rest_kept(log4shell: Store) -> None:
    bom = cyclonedx(
        [
            log4j_core("2.16.0"),
            {"type": "library", "name": "unversioned-lib", "purl": "pkg:npm/unversioned-lib"},
            {"type": "library", "name": "bad-purl", "version": "1.0", "purl": "not a purl"},
        ]
    )
    with log4shell.session() as session:
        report = import_inventory(session, "RAA", bom, "partial.json", actor=Actor.cli("test"))
    assert report.components == 1
    reasons = [(r["name"], r["reason"]) for r in report.rejected]
    assert reasons[0] == ("unversioned-lib", "component has no version, so no range can be checked")
    assert reasons[1][0] == "bad-purl"
    assert reasons[1][1].startswith("invalid package URL 'not a purl'")
    assert report.exposures == 1


def test_unknown_organisation_is_not_found(federation: Store) -> None:
    with pytest.raises(NotFoundError, match="ZZZ"), federation.session() as session:
        import_inventory(
            session, "ZZZ", cyclonedx([log4j_core("2.14.1")]), "x", actor=Actor.cli("test")
        )


def test_cpe_applicability_with_version_bounds(federation: Store) -> None:
    assets = (
        "vendor,product,version,cpe\n"
        "Example Corp,Edge Gateway,7.1,\n"
        "Example Corp,Edge Gateway,7.2.5,\n"
        ",,,cpe:2.3:o:example:gateway_os:3.9:*:*:*:*:*:*:*\n"
        ",,,cpe:2.3:o:example:gateway_os:3.10:*:*:*:*:*:*:*\n"
        "Example Corp,Edge Gateway,6.4.9,\n"
    )
    with federation.session() as session:
        import_inventory(session, "RCC", assets.encode(), "assets.csv", actor=Actor.cli("test"))
        import_intel(
            session,
            parse_intel(json.dumps(CVE5).encode(), "cve.json"),
            "cve.json",
            actor=Actor.cli("test"),
        )
        exposed = sorted(
            (e.component, e.version, e.range) for e in list_exposures(session, org="RCC")
        )
    assert exposed == [
        ("Edge Gateway", "6.4.9", "=6.4.9"),
        ("Edge Gateway", "7.1", ">=7.0, <7.2.5"),
        ("example:gateway_os", "3.9", ">=3.0, <3.10"),  # 3.9 < 3.10: numbers compare as numbers
    ]
