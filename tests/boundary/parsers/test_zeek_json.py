"""A Zeek log gives the same events whether Zeek wrote it as TSV or as JSON.

``zeek_json`` turns a TSV log into what Zeek's JSON writer gives for it, field type by
field type (``#types``): sets and vectors become arrays, counts, ports, times and
intervals numbers, bools true/false, unset fields left out. The real WRCCDC logs and
small logs covering every field type are read both ways and compared dataset by
dataset, column by column.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from bastion.boundary.parsers import ParseContext, ParseResult, detect_format, get_parser
from bastion.core.events import LINE_COLUMN

ZEEK = get_parser("zeek")
ZEEK_JSON = get_parser("zeek-json")
NUMBERS = {"count", "int", "port", "time", "interval", "double"}


def _json_value(kind: str, value: str, empty: str, unset: str, set_sep: str) -> str:
    """Encode one TSV value of Zeek type ``kind`` as Zeek's JSON writer does."""
    if kind.startswith(("set[", "vector[", "table[")):
        inner = kind[kind.index("[") + 1 : -1]
        items = [] if value == empty else value.split(set_sep)
        return "[" + ",".join(_element(inner, item, unset) for item in items) + "]"
    if value == empty and kind not in NUMBERS:
        return '""'
    return _element(kind, value, unset)


def _element(kind: str, value: str, unset: str) -> str:
    if value == unset:
        return "null"
    if kind in NUMBERS:
        return value  # Zeek's digits, as written: a JSON number
    if kind == "bool":
        return "true" if value == "T" else "false"
    return json.dumps(value)


def zeek_json(tsv: list[str], *, path: bool = False) -> list[str]:
    """Return the JSON lines Zeek writes for the TSV log ``tsv`` (``_path`` in each if asked)."""
    separator, set_sep, empty, unset = "\t", ",", "(empty)", "-"
    fields: list[str] = []
    types: list[str] = []
    log_path = ""
    out = []
    for line in tsv:
        if line.startswith("#"):
            key, _, rest = line.partition(separator)
            if key == "#set_separator":
                set_sep = rest
            elif key == "#empty_field":
                empty = rest
            elif key == "#unset_field":
                unset = rest
            elif key == "#path":
                log_path = rest
            elif key == "#fields":
                fields = rest.split(separator)
            elif key == "#types":
                types = rest.split(separator)
            continue
        if not line:
            continue
        parts = [f'"_path":{json.dumps(log_path)}'] if path else []
        values = line.split(separator)
        for name, kind, value in zip(fields, types, values, strict=True):
            if value != unset:
                parts.append(
                    f"{json.dumps(name)}:{_json_value(kind, value, empty, unset, set_sep)}"
                )
        out.append("{" + ",".join(parts) + "}")
    return out


def read_log(shared_data: Path, name: str) -> list[str]:
    with gzip.open(shared_data / "zeek" / f"{name}.log.gz", "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def parse(parser_name: str, lines: list[str], source: str) -> ParseResult:
    parser = get_parser(parser_name)
    return parser.parse(pl.Series(lines, dtype=pl.String), ParseContext(source=source))


def assert_same_events(tsv: ParseResult, js: ParseResult) -> None:
    """Compare the events dataset by dataset, column by column (the raw line aside)."""
    assert js.rejects.height == 0, js.rejects.head(3).to_dicts()
    assert tsv.rejects.height == 0, tsv.rejects.head(3).to_dicts()
    left = tsv.events.drop("event.original", LINE_COLUMN)
    right = js.events.drop("event.original", LINE_COLUMN)
    datasets = sorted(left.get_column("event.dataset").unique().to_list())
    assert sorted(right.get_column("event.dataset").unique().to_list()) == datasets
    for dataset in datasets:
        mine = left.filter(pl.col("event.dataset") == dataset)
        theirs = right.filter(pl.col("event.dataset") == dataset)
        assert mine.height == theirs.height, dataset
        for column in mine.columns:
            same = theirs.get_column(column).equals(mine.get_column(column), check_dtypes=True)
            assert same, (dataset, column, theirs.get_column(column), mine.get_column(column))


@pytest.mark.parametrize("name", ["dns", "ssl", "x509", "notice", "weird"])
def test_real_logs_give_the_same_events_as_tsv_and_as_json(shared_data: Path, name: str) -> None:
    tsv = read_log(shared_data, name)
    types = next(line for line in tsv if line.startswith("#types"))
    assert "vector[" in types or "set[" in types or name == "weird"  # the arrays are exercised
    as_tsv = parse("zeek", tsv, f"/logs/{name}.log")
    # Zeek's JSON logs carry no _path: the file's name says the log type.
    as_json = parse("zeek-json", zeek_json(tsv), f"/logs/{name}.log")
    assert as_tsv.events.height == len([line for line in tsv if not line.startswith("#")])
    assert_same_events(as_tsv, as_json)


HEADER = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
# Logs whose fields cover every Zeek type: set and vector of string, addr, enum and
# interval, empty sets, time, interval, count, port, addr, bool, enum, double.
LOGS = {
    "conn": """#path\tconn
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tmissed_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tcount\tset[string]
1700000000.250000\tC1\t10.1.2.3\t50000\t93.184.216.34\t443\ttcp\tssl,http\t1.500000\t1200\t34000\tSF\tT\t0\tCXWv6p3arKYeMETxOg,CjhGID4nQcgTWjvg4c
1700000001.000000\tC2\t10.1.2.3\t50001\t8.8.8.8\t53\tudp\tdns\t-\t-\t80\tSF\tF\t0\t(empty)
1700000002.000000\tC3\t2001:db8::1\t50002\t2001:db8::2\t22\ttcp\t-\t0.000123\t0\t0\tS0\t-\t-\t-""",
    "known_services": """#path\tknown_services
#fields\tts\thost\tport_num\tport_proto\tservice
#types\ttime\taddr\tport\tenum\tset[string]
1700000003.000000\t10.1.2.3\t443\ttcp\tHTTP,SSL
1700000004.000000\t10.1.2.4\t25\ttcp\t(empty)""",
    "files": """#path\tfiles
#fields\tts\tfuid\ttx_hosts\trx_hosts\tconn_uids\tsource\tdepth\tanalyzers\tmime_type\tduration\tis_orig\tseen_bytes\tsha256
#types\ttime\tstring\tset[addr]\tset[addr]\tset[string]\tstring\tcount\tset[string]\tstring\tinterval\tbool\tcount\tstring
1700000005.000000\tF1\t93.184.216.34\t10.1.2.3\tC1\tHTTP\t0\t(empty)\ttext/html\t0.000000\tF\t100\t275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f""",
    "http": """#path\thttp
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\tstatus_code\tuser_agent\ttags\tresp_fuids\tproxied
#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tcount\tstring\tset[enum]\tvector[string]\tset[string]
1700000006.000000\tC4\t10.1.2.3\t50003\t203.0.113.7\t80\t1\tGET\twww.example.com\t/a?b=1\t200\tcurl/8.0\tHTTP::URI_SQLI,HTTP::EMPTY\tF1,F2\t-
1700000007.000000\tC5\t10.1.2.3\t50004\t203.0.113.8\t80\t1\tPOST\t-\t/x\t-\t(empty)\t(empty)\t(empty)\tVIA -> proxy""",
    "x509": """#path\tx509
#fields\tts\tfingerprint\tcertificate.subject\tsan.dns\tsan.ip\tbasic_constraints.ca
#types\ttime\tstring\tstring\tvector[string]\tvector[addr]\tbool
1700000008.000000\t275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\tCN=a.example,O=A\tb.example,c.example\t192.0.2.1\tT""",
    "dns": """#path\tdns
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\tanswers\tTTLs\trejected
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tstring\tvector[string]\tvector[interval]\tbool
1700000009.000000\tC6\t10.1.2.3\t40000\t10.0.0.53\t53\tudp\tExample.COM.\tA\tNOERROR\t93.184.216.34,93.184.216.35\t3600.000000,60.000000\tF""",
}


@pytest.mark.parametrize("name", sorted(LOGS))
@pytest.mark.parametrize("with_path", [False, True])
def test_every_field_type_reads_the_same_in_both_encodings(name: str, with_path: bool) -> None:
    tsv = (HEADER + LOGS[name]).splitlines()
    as_tsv = parse("zeek", tsv, f"{name}.log")
    as_json = parse("zeek-json", zeek_json(tsv, path=with_path), f"{name}.log")
    assert_same_events(as_tsv, as_json)
    assert as_json.events.get_column("event.dataset").unique().to_list() == [f"zeek.{name}"]


def test_sets_in_a_mapped_field_read_as_tsv_writes_them() -> None:
    tsv = (HEADER + LOGS["known_services"]).splitlines()
    events = parse("zeek-json", zeek_json(tsv), "known_services.log").events
    assert events.get_column("network.protocol").to_list() == ["http,ssl", None]
    x509 = parse("zeek-json", zeek_json((HEADER + LOGS["x509"]).splitlines()), "x.json").events
    assert x509.get_column("tls.server.name").to_list() == ["b.example"]  # a vector's first


def test_json_times_in_milliseconds_and_iso_8601_read_as_epoch_seconds() -> None:
    base = '"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":2'
    lines = [
        "{" + f'"ts":1700000000.25,{base}' + "}",
        "{" + f'"ts":1700000000250,{base}' + "}",
        "{" + f'"ts":"2023-11-14T22:13:20.250000Z",{base}' + "}",
    ]
    stamps = parse("zeek-json", lines, "conn.log").events.get_column("@timestamp")
    assert stamps.n_unique() == 1
    assert stamps[0].timestamp() == 1700000000.25


def test_json_rejects_say_what_is_wrong() -> None:
    good = '{"ts":1.5,"uid":"C","id.orig_h":"10.0.0.1","query":"x.org"}'
    lines = [
        good,
        good[:37],  # cut short
        '{"ts":1.5,"uid":"C" "query":"x.org"}',
        '{"ts":1.5,"uid":"C","service":{"name":"dns"}}',
        '{"ts":1.5,"uid":"C","service":[["dns"]]}',
        '{"ts":1.5,"uid":"C"} trailing',
        '{"ts":1.5,"uid":"C","query":"' + "x" * 1_000_000 + '" "rcode_name":1}',
        "[1, 2]",
    ]
    result = parse("zeek-json", lines, "dns.log")
    assert result.events.get_column(LINE_COLUMN).to_list() == [0]
    assert dict(result.rejects.iter_rows()) == {
        1: "zeek-json: JSON ends early at byte 37",
        2: "zeek-json: JSON syntax error at byte 21: expecting ',' delimiter",
        3: "zeek-json: field 'service' holds an object where text or a list of text belongs",
        4: "zeek-json: field 'service' holds an array where text or a list of text belongs",
        5: "zeek-json: JSON has more after its end, at byte 22",
        6: "zeek-json: JSON syntax error at byte 1000032: expecting ',' delimiter",
        7: "zeek-json: not a JSON object",
    }


def test_json_logs_without_uid_are_detected(shared_data: Path) -> None:
    tsv = (HEADER + LOGS["known_services"]).splitlines()
    assert detect_format(zeek_json(tsv)).name == "zeek-json"
    assert detect_format(zeek_json(read_log(shared_data, "x509")[:30])).name == "zeek-json"


def test_an_array_in_any_field_read_reads_as_tsv_writes_it() -> None:
    # A package's log may make any field a set: the lines decode as lists throughout.
    custom = """#path\tcustom
#fields\tts\tid.orig_h\tnote\tpeer
#types\ttime\taddr\tset[string]\tstring
1700000010.000000\t10.1.2.3\tScan::Port_Scan,Scan::Address_Scan\tworker-1
1700000011.000000\t10.1.2.4\t(empty)\tworker-2"""
    tsv = (HEADER + custom).splitlines()
    broken = '{"ts":1700000012.0,"id.orig_h":"10.1.2.5","note":["x"]'  # cut short
    as_json = parse("zeek-json", [*zeek_json(tsv, path=True), broken], "custom.json")
    assert dict(as_json.rejects.iter_rows()) == {2: "zeek-json: JSON ends early at byte 54"}
    as_json = ParseResult(as_json.events, as_json.rejects.clear())
    assert_same_events(parse("zeek", tsv, "custom.log"), as_json)
    assert as_json.events.get_column("rule.name").to_list() == [
        "Scan::Port_Scan,Scan::Address_Scan",
        "",
    ]
