"""Vulnerability intelligence: OSV (file, folder, zip), CVE JSON 5, KEV, EPSS, CVSS, aliases, feeds."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bastion.advisories.feeds import add_feed, import_intel, import_path, run_feeds
from bastion.advisories.importers import parse_intel, read_intel
from bastion.advisories.vulnerabilities import get_vulnerability, list_vulnerabilities
from bastion.advisories.vulns import score_cvss
from bastion.audit import Actor
from bastion.core.errors import FormatError
from bastion.store import Store

CVE5 = {
    "dataType": "CVE_RECORD",
    "dataVersion": "5.1",
    "cveMetadata": {
        "cveId": "CVE-2024-0001",
        "state": "PUBLISHED",
        "datePublished": "2024-01-02T00:00:00Z",
    },
    "containers": {
        "cna": {
            "title": "Example appliance RCE",
            "descriptions": [{"lang": "en", "value": "Remote code execution in the web UI."}],
            "affected": [
                {
                    "vendor": "Example Corp",
                    "product": "Edge Gateway",
                    "versions": [
                        {
                            "version": "7.0",
                            "lessThan": "7.2.5",
                            "status": "affected",
                            "versionType": "custom",
                        },
                        {"version": "6.4.9", "status": "affected"},
                    ],
                }
            ],
            "metrics": [
                {
                    "cvssV4_0": {
                        "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
                    }
                },
                {"cvssV3_1": {"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
            ],
            "cpeApplicability": [
                {
                    "nodes": [
                        {
                            "operator": "OR",
                            "cpeMatch": [
                                {
                                    "vulnerable": True,
                                    "criteria": "cpe:2.3:a:example:gateway_os:*:*:*:*:*:*:*:*",
                                    "versionStartIncluding": "3.0",
                                    "versionEndExcluding": "3.10",
                                }
                            ],
                        }
                    ]
                }
            ],
        }
    },
}


def test_osv_folder_real_log4shell_records(shared_data: Path) -> None:
    result = read_intel(shared_data / "intel" / "osv")
    assert result.format == "osv"
    by_key = {r.key: r for r in result.records}
    assert set(by_key) == {"CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105"}
    log4shell = by_key["CVE-2021-44228"]
    assert log4shell.identifiers == ("CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q")
    assert log4shell.cvss[0].score == 10.0
    assert log4shell.severity == "critical"
    assert [a.text for a in log4shell.affected] == [">=2.13.0, <2.15.0", "<2.3.1", ">=2.4, <2.12.2"]
    assert {a.package for a in log4shell.affected} == {"org.apache.logging.log4j:log4j-core"}


def test_osv_zip_dump_is_read_like_the_folder(shared_data: Path, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((shared_data / "intel" / "osv").glob("*.json")):
            archive.writestr(path.name, path.read_bytes())
    result = parse_intel(buffer.getvalue(), "maven-all.zip")
    assert sorted(r.key for r in result.records) == [
        "CVE-2021-44228",
        "CVE-2021-45046",
        "CVE-2021-45105",
    ]


def test_kev_catalogue_real(shared_data: Path) -> None:
    result = read_intel(shared_data / "intel" / "cisa-kev-2025-08-25.json")
    assert result.format == "kev"
    assert len(result.records) == 1404
    log4shell = next(r for r in result.records if r.id == "CVE-2021-44228")
    assert log4shell.kev is not None
    assert log4shell.kev.due_date == date(2021, 12, 24)
    assert log4shell.kev.ransomware is True
    assert log4shell.affected[0].package == "apache:log4j2"
    assert log4shell.affected[0].precision == "product"


def test_cve5_record_versions_cpe_applicability_and_cvss() -> None:
    result = parse_intel(json.dumps(CVE5).encode(), "CVE-2024-0001.json")
    assert result.format == "cve5"
    [record] = result.records
    assert record.summary == "Example appliance RCE"
    texts = {(a.package, a.text) for a in record.affected}
    assert ("example_corp:edge_gateway", ">=7.0, <7.2.5") in texts
    assert ("example_corp:edge_gateway", "=6.4.9") in texts
    assert ("example:gateway_os", ">=3.0, <3.10") in texts
    scores = {c.version: c.score for c in record.cvss}
    assert scores == {"4.0": 9.3, "3.1": 9.8}


def test_epss_csv_with_model_header() -> None:
    data = b"#model_version:v2023.03.01,score_date:2025-08-25T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.94358,0.99957\nCVE-2024-0001,0.0012,0.41\n"
    result = parse_intel(data, "epss_scores-2025-08-25.csv")
    assert result.format == "epss"
    assert [(s.cve, s.probability, s.percentile) for s in result.epss] == [
        ("CVE-2021-44228", 0.94358, 0.99957),
        ("CVE-2024-0001", 0.0012, 0.41),
    ]
    assert result.epss[0].score_date == date(2025, 8, 25)


def test_epss_bad_row_names_its_line() -> None:
    with pytest.raises(FormatError, match="line 4"):
        parse_intel(
            b"cve,epss,percentile\nCVE-2021-44228,0.9,0.9\nCVE-2021-1,0.1,0.1\nnot-a-cve,0.1,0.2\n",
            "e.csv",
        )


def test_invalid_json_is_a_format_error_with_its_line() -> None:
    with pytest.raises(FormatError, match=r"x\.json, line 2: not valid JSON"):
        parse_intel(b'{"id": "X",\n oops}', "x.json")


def test_unrecognised_json_says_what_was_expected() -> None:
    with pytest.raises(FormatError, match="expected an OSV record"):
        parse_intel(b'{"hello": 1}', "x.json")


def test_cvss_v4_and_v31_scores() -> None:
    assert score_cvss("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H").score == 9.0
    v4 = score_cvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    assert (v4.version, v4.score, v4.severity) == ("4.0", 9.3, "critical")
    assert score_cvss("CVSS:3.1/AV:X").score is None


def test_ghsa_and_kev_merge_into_one_vulnerability(store: Store, shared_data: Path) -> None:
    with store.session() as session:
        import_path(session, shared_data / "intel" / "osv", actor=Actor.cli("test"))
        import_path(
            session, shared_data / "intel" / "cisa-kev-2025-08-25.json", actor=Actor.cli("test")
        )
        import_intel(
            session,
            parse_intel(b"cve,epss,percentile\nCVE-2021-44228,0.94358,0.99957\n", "e.csv"),
            "e.csv",
            actor=Actor.cli("test"),
        )
        by_ghsa = get_vulnerability(session, "GHSA-jfh8-c2jp-5v3q")
        kev_count = len(list_vulnerabilities(session, kev_only=True, limit=5000))
    assert by_ghsa.key == "CVE-2021-44228"
    assert by_ghsa.aliases == ("CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q")
    assert by_ghsa.kev
    assert by_ghsa.kev_due_date == date(2021, 12, 24)
    assert by_ghsa.kev_ransomware is True
    assert by_ghsa.summary == "Remote code injection in Log4j"  # the advisory's text, not KEV's
    assert by_ghsa.cvss_v3_score == 10.0
    assert by_ghsa.epss_probability == 0.94358
    assert sorted(by_ghsa.sources) == ["kev:CVE-2021-44228", "osv:GHSA-jfh8-c2jp-5v3q"]
    assert kev_count == 1404


def test_cve_first_then_ghsa_keeps_one_vulnerability(store: Store, shared_data: Path) -> None:
    with store.session() as session:
        import_intel(
            session,
            parse_intel(json.dumps({**CVE5, "cveMetadata": {"cveId": "CVE-2021-44228"}}).encode()),
            "cve",
            actor=Actor.cli("test"),
        )
        import_path(
            session,
            shared_data / "intel" / "osv" / "GHSA-jfh8-c2jp-5v3q.json",
            actor=Actor.cli("test"),
        )
        found = list_vulnerabilities(session, search="CVE-2021-44228")
    assert [v.key for v in found] == ["CVE-2021-44228"]
    assert found[0].aliases == ("CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q")


class _Feed(BaseHTTPRequestHandler):
    body = b""
    etag = '"v1"'
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.headers.get("If-None-Match") or "")
        if self.headers.get("If-None-Match") == self.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", self.etag)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_server(shared_data: Path) -> Iterator[str]:
    _Feed.body = (shared_data / "intel" / "cisa-kev-2025-08-25.json").read_bytes()
    _Feed.hits = []
    _Feed.etag = '"v1"'
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/known_exploited_vulnerabilities.json"
    server.shutdown()
    server.server_close()


def test_feed_fetches_when_due_and_honours_etag(sqlite_store: Store, feed_server: str) -> None:
    with sqlite_store.session() as session:
        add_feed(session, "kev", feed_server, None, interval_minutes=60, actor=Actor.cli("test"))
        first = run_feeds(session, actor=Actor.cli("test"))
        second = run_feeds(session, actor=Actor.cli("test"))  # not yet due
        third = run_feeds(
            session, force=True, actor=Actor.cli("test")
        )  # due by force: the server says not modified
        count = len(list_vulnerabilities(session, kev_only=True, limit=5000))
    assert first[0][1].startswith("1404 records")
    assert second == [("kev", "not due")]
    assert third == [("kev", "not modified")]
    assert _Feed.hits == ["", '"v1"']
    assert count == 1404


def test_feed_failure_is_recorded_and_keeps_data(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        add_feed(session, "dead", "http://127.0.0.1:9/nothing.json", actor=Actor.cli("test"))
        [(name, outcome)] = run_feeds(session, actor=Actor.cli("test"))
    assert name == "dead"
    assert outcome.startswith("failed: cannot fetch http://127.0.0.1:9/nothing.json")


def test_feed_serving_garbage_fails_and_keeps_what_was_imported(
    sqlite_store: Store, feed_server: str
) -> None:
    with sqlite_store.session() as session:
        add_feed(session, "kev", feed_server, actor=Actor.cli("test"))
        run_feeds(session, actor=Actor.cli("test"))
    _Feed.body, _Feed.etag = b'{"catalogVersion": "x", "vulnerabilities": [{"nocve": 1}]}', '"v2"'
    with sqlite_store.session() as session:
        [(_, outcome)] = run_feeds(session, force=True, actor=Actor.cli("test"))
    with sqlite_store.session() as session:
        count = len(list_vulnerabilities(session, kev_only=True, limit=5000))
    assert outcome.startswith("failed:")
    assert "KEV entry without a cveID" in outcome
    assert count == 1404


def test_one_batch_with_a_ghsa_and_its_cve_record_makes_one_vulnerability(
    store: Store, shared_data: Path
) -> None:
    from bastion.advisories.vulnerabilities import save_records

    ghsa = read_intel(shared_data / "intel" / "osv" / "GHSA-jfh8-c2jp-5v3q.json").records
    cve = parse_intel(
        json.dumps({**CVE5, "cveMetadata": {"cveId": "CVE-2021-44228"}}).encode()
    ).records
    with store.session() as session:
        report = save_records(session, ghsa + cve)
        found = list_vulnerabilities(session, search="2021-44228")
    assert (report.created, report.updated) == (1, 0)
    assert [(v.key, v.aliases) for v in found] == [
        ("CVE-2021-44228", ("CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"))
    ]
    assert sorted(found[0].sources) == ["cve5:CVE-2021-44228", "osv:GHSA-jfh8-c2jp-5v3q"]
