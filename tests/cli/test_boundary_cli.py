from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

Run = Callable[..., Result]

SQUID = (
    "1748858400.123    120 11.0.0.5 TCP_MISS/200 5120 GET http://portal.example.test/ - "
    "HIER_DIRECT/198.18.0.10 text/html\n"
    "1748858401.456     80 11.0.0.6 TCP_DENIED/403 300 GET http://evil.example/login - "
    "HIER_NONE/- text/html\n"
    "this is not squid\n"
)


def _setup(bastion: Run, tmp_path: Path) -> Path:
    assert bastion("init").exit_code == 0
    assert bastion("orgs", "add", "R0A", "Trust", "-n", "11.0.0.0/24").exit_code == 0
    indicators = tmp_path / "ind.csv"
    indicators.write_text("type,value,source,severity\ndomain,evil.example,feed,high\n")
    assert bastion("intel", "import", str(indicators)).exit_code == 0
    log = tmp_path / "access.log"
    log.write_text(SQUID)
    return log


def test_ingest_reports_counts_rejects_and_alerts_as_json(bastion: Run, tmp_path: Path) -> None:
    log = _setup(bastion, tmp_path)
    result = bastion("boundary", "ingest", str(log), "--json")
    assert result.exit_code == 0, result.output
    [stats] = json.loads(result.stdout)
    assert (stats["format"], stats["events"], stats["rejects"], stats["alerts_created"]) == (
        "squid",
        2,
        1,
        1,
    )
    archive = tmp_path / "data" / "archive"
    assert not list(archive.glob("day=*/org=_staging/*.parquet")), "ingest compacts at its end"
    assert [p.parent.name for p in archive.glob("day=*/org=*/*.parquet")] == ["org=R0A"]
    compacted = json.loads(bastion("archive", "compact", "--json").stdout)
    assert compacted["staged_files"] == 0
    [reject] = json.loads(bastion("boundary", "rejects", "--json").stdout)
    assert (reject["line"], reject["offset"], reject["raw"]) == (
        3,
        SQUID.index("this"),
        "this is not squid",
    )
    assert reject["reason"]
    [alert] = json.loads(bastion("alerts", "list", "--json").stdout)
    assert (alert["org"], alert["host"], alert["verdict"]) == ("R0A", "11.0.0.6", "blocked")
    [source] = json.loads(bastion("boundary", "sources", "--json").stdout)
    assert source["done"] is True
    again = json.loads(bastion("boundary", "ingest", str(log), "--json").stdout)
    assert again[0]["status"] == "already ingested"


def test_stdin_needs_a_format_and_then_reads(bastion: Run, tmp_path: Path) -> None:
    _setup(bastion, tmp_path)
    refused = bastion("boundary", "ingest", "-")
    assert refused.exit_code == 1
    assert "reading stdin needs --format" in refused.stderr
    result = bastion("boundary", "ingest", "-", "--format", "squid", "--json", input=SQUID)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["events"] == 2


def test_bad_paths_and_formats_are_one_line_errors(bastion: Run, tmp_path: Path) -> None:
    log = _setup(bastion, tmp_path)
    missing = bastion("boundary", "ingest", str(tmp_path / "nope.log"))
    assert missing.exit_code == 1
    assert "nope.log: no such file or directory" in missing.stderr
    unknown = bastion("boundary", "ingest", str(log), "--format", "klingon")
    assert unknown.exit_code == 1
    assert "unknown log format 'klingon'" in unknown.stderr
    noorg = bastion("boundary", "ingest", str(log), "--org", "ZZZ")
    assert noorg.exit_code == 1
    assert "no organisation with code 'ZZZ'" in noorg.stderr


def test_formats_lists_every_parser(bastion: Run) -> None:
    names = {f["name"] for f in json.loads(bastion("boundary", "formats", "--json").stdout)}
    assert {
        "zeek",
        "panos",
        "fortigate",
        "cisco-asa",
        "iptables",
        "squid",
        "nginx",
        "cef",
        "ecs",
    } <= names


def test_ingest_counts_every_line_in_json_and_the_table(bastion: Run, tmp_path: Path) -> None:
    log = _setup(bastion, tmp_path)
    log.write_text("\n" + SQUID + "   \n\n")  # blank lines before, among and after
    [stats] = json.loads(bastion("boundary", "ingest", str(log), "--json").stdout)
    assert (stats["lines"], stats["events"], stats["rejects"], stats["blank"]) == (6, 2, 1, 3)
    other = tmp_path / "other.log"
    other.write_text(SQUID.replace("1748858", "1748859") + "\n")
    table = bastion("boundary", "ingest", str(other))
    assert table.exit_code == 0, table.output
    header, row = table.stdout.splitlines()[:2]
    assert header.split()[:7] == [
        "SOURCE",
        "FORMAT",
        "STATUS",
        "LINES",
        "EVENTS",
        "REJECTS",
        "BLANK",
    ]
    assert row.split()[:7] == [str(other), "squid", "ingested", "4", "2", "1", "1"]


ZEEK_JSON = (
    '{"ts":1748858400.5,"uid":"C1","id.orig_h":"11.0.0.5","id.orig_p":5000,'
    '"id.resp_h":"198.18.0.10","id.resp_p":443,"proto":"tcp","service":["ssl"]}\n'
)


def test_an_unreadable_file_is_skipped_and_the_others_ingested(
    bastion: Run, tmp_path: Path
) -> None:
    _setup(bastion, tmp_path)
    folder = tmp_path / "zeek"
    folder.mkdir()
    (folder / "a-conn.log").write_text(ZEEK_JSON)
    (folder / "b-notes.txt").write_text("nothing any parser reads\nreally nothing\n")
    (folder / "c-conn.log.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"not gzip at all" * 10)
    (folder / "d-conn.log").write_text(ZEEK_JSON.replace("C1", "C2").replace("5000", "5001"))
    result = bastion("boundary", "ingest", str(folder), "--json")
    assert result.exit_code == 3, result.output
    stats = {Path(s["source"]).name: s for s in json.loads(result.stdout)}
    assert [stats[name]["status"] for name in sorted(stats)] == [
        "ingested",
        "skipped",
        "skipped",
        "ingested",
    ]
    assert stats["d-conn.log"]["events"] == 1  # read although files before it could not be
    assert stats["b-notes.txt"]["reason"] == "cannot tell the log format; give it with --format"
    assert stats["c-conn.log.gz"]["reason"].startswith("corrupt compressed data (Error -3 ")
    assert stats["a-conn.log"]["reason"] is None
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert skipped == [
        f"skipped {folder / 'b-notes.txt'}: cannot tell the log format; give it with --format",
        f"skipped {folder / 'c-conn.log.gz'}: {stats['c-conn.log.gz']['reason']}",
    ]
    table = bastion("boundary", "ingest", str(folder))
    assert table.exit_code == 3
    assert "already ingested" in table.stdout
    assert len([line for line in table.stderr.splitlines() if line.startswith("skipped ")]) == 2


def test_every_file_readable_exits_zero(bastion: Run, tmp_path: Path) -> None:
    _setup(bastion, tmp_path)
    log = tmp_path / "conn.log"
    log.write_text(ZEEK_JSON)
    result = bastion("boundary", "ingest", str(log), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["format"] == "zeek-json"


def test_a_file_ingested_as_one_format_is_refused_as_another_until_forgotten(
    bastion: Run, tmp_path: Path
) -> None:
    log = _setup(bastion, tmp_path)
    wrong = json.loads(bastion("boundary", "ingest", str(log), "-f", "panos", "--json").stdout)
    assert (wrong[0]["events"], wrong[0]["rejects"]) == (0, 3)  # everything dead-lettered
    same = bastion("boundary", "ingest", str(log), "-f", "panos", "--json")
    assert same.exit_code == 0
    assert json.loads(same.stdout)[0]["status"] == "already ingested"

    refused = bastion("boundary", "ingest", str(log), "-f", "squid", "--json")
    assert refused.exit_code == 3
    [stats] = json.loads(refused.stdout)
    [source] = json.loads(bastion("boundary", "sources", "--json").stdout)
    assert (stats["status"], stats["events"]) == ("refused", 0)
    assert stats["reason"].startswith(f"already ingested as panos on {source['updated_at'][:10]};")
    assert stats["reason"].endswith(f"`bastion boundary forget {source['key']}`")
    plain = bastion("boundary", "ingest", str(log), "-f", "squid")
    assert plain.exit_code == 3
    assert plain.stderr.strip() == f"refused {log}: {stats['reason']}"

    forgot = bastion("boundary", "forget", str(log))
    assert forgot.exit_code == 0, forgot.output
    assert forgot.stdout.strip() == f"forgot {log} ({source['key']}), ingested as panos"
    audit = json.loads(bastion("audit", "list", "--action", "boundary.", "--json").stdout)
    assert [(a["action"], a["target"]) for a in audit] == [
        ("boundary.source_forget", f"source:{source['key']}")
    ]

    right = bastion("boundary", "ingest", str(log), "-f", "squid", "--json")
    assert right.exit_code == 0, right.output
    assert json.loads(right.stdout)[0]["events"] == 2
    assert bastion("boundary", "ingest", str(log), "-f", "squid").exit_code == 0
    counted = json.loads(
        bastion(
            "hunt",
            'SELECT count(*) AS n, count(DISTINCT "event.original") AS d FROM events',
            "--json",
        ).stdout
    )
    assert counted == [{"n": 2, "d": 2}]  # each event once
    rejects = json.loads(bastion("boundary", "rejects", "--json").stdout)
    assert [(r["format"], r["raw"]) for r in rejects] == [("squid", "this is not squid")]

    again = bastion("boundary", "forget", source["key"])
    assert again.exit_code != 0
    assert "2 events archived as squid" in again.stderr
