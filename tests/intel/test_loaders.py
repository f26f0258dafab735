from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion.core.errors import InputError
from bastion.core.types import Severity
from bastion.intel import Action, IndicatorType, load_indicator_file

T = IndicatorType

GOOD_CSV = """\
# feed: test indicators
type,value,source,severity,confidence,action,threat,valid_until
domain,Evil.Example.,abuse.ch,high,90,block,Emotet,2030-01-01
,192.0.2.1,,,,,,

cidr,198.51.100.0/24,misp,low,20,alert,,2030-06-30T12:00:00Z
url_pattern,http://evil.example/*.exe,misp,critical,100,block,Dropper,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_loads_with_defaults_inference_and_comments(tmp_path: Path) -> None:
    found = load_indicator_file(write(tmp_path, "feed.csv", GOOD_CSV))
    assert [(i.type, i.value, i.source) for i in found] == [
        (T.DOMAIN, "evil.example", "abuse.ch"),
        (T.IPV4, "192.0.2.1", "feed"),  # type inferred, source from the file name
        (T.CIDR, "198.51.100.0/24", "misp"),
        (T.URL_PATTERN, "http://evil.example/*.exe", "misp"),
    ]
    first, second = found[0], found[1]
    assert (first.severity, first.confidence, first.action, first.threat) == (
        Severity.HIGH,
        90,
        Action.BLOCK,
        "Emotet",
    )
    assert first.valid_until == datetime(2030, 1, 1, tzinfo=UTC)
    assert (second.severity, second.confidence, second.action) == (
        Severity.MEDIUM,
        50,
        Action.ALERT,
    )
    assert found[2].valid_until == datetime(2030, 6, 30, 12, tzinfo=UTC)


def test_csv_without_type_column_infers_every_type(tmp_path: Path) -> None:
    text = "value\nevil.example\n2001:db8::1\n" + "a" * 64 + "\n"
    found = load_indicator_file(write(tmp_path, "bare.csv", text), source="manual")
    assert [i.type for i in found] == [T.DOMAIN, T.IPV6, T.SHA256]
    assert {i.source for i in found} == {"manual"}


def test_json_list_and_wrapped_object_load_the_same(tmp_path: Path) -> None:
    items = [
        {"type": "ja3", "value": "E7D705A3286E19EA42F587B344EE6865", "tags": ["tor"]},
        {"value": "https://Evil.Example/x", "source": "misp", "confidence": 75, "tags": "a; b"},
    ]
    plain = load_indicator_file(write(tmp_path, "list.json", json.dumps(items)))
    wrapped = load_indicator_file(write(tmp_path, "list2.json", json.dumps({"indicators": items})))
    assert [(i.type, i.value) for i in plain] == [
        (T.JA3, "e7d705a3286e19ea42f587b344ee6865"),
        (T.URL, "https://evil.example/x"),
    ]
    assert [i.id for i in plain] == [i.id for i in wrapped]
    assert plain[0].tags == ("tor",)
    assert plain[1].tags == ("a", "b")
    assert plain[1].confidence == 75


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        ("type,value\ndomain,ok.example\ndomain,*.bad\n", 3, "value", "no wildcards"),
        ("type,value\nipv4,192.0.2.1\nipv4,192.0.2.999\n", 3, "value", "not an IP"),
        ("type,value\nhostname,x.example\n", 2, "type", "unknown indicator type"),
        ("value,severity\nok.example,urgent\n", 2, "severity", "unknown severity"),
        ("value,confidence\nok.example,high\n", 2, "confidence", "whole number"),
        ("value,confidence\nok.example,101\n", 2, "confidence", "0-100"),
        ("value,action\nok.example,drop\n", 2, "action", "block or alert"),
        ("value,valid_until\nok.example,next week\n", 2, "valid_until", "ISO 8601"),
        ("value,colour\nok.example,red\n", 2, "colour", "unknown field"),
        ("value\n\n# comment\nok.example\n???\n", 5, "type", "give its type"),
        ("type,value\ndomain,\n", 2, "value", "empty"),
        ("# a comment\n\ntype,value\nipv4,192.0.2.999\n", 4, "value", "not an IP"),
    ],
)
def test_bad_csv_row_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, reason: str
) -> None:
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError, match=reason) as raised:
        load_indicator_file(path)
    assert raised.value.location.file == str(path)
    assert raised.value.location.line == line
    assert raised.value.location.field == field
    assert f"{path}, line {line}, field '{field}'" in str(raised.value)


def test_csv_without_value_column_or_with_extra_cells_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no 'value' column"):
        load_indicator_file(write(tmp_path, "a.csv", "type,indicator\ndomain,x.example\n"))
    with pytest.raises(InputError, match="3 cells for 2 columns") as raised:
        load_indicator_file(write(tmp_path, "b.csv", "type,value\ndomain,x.example,extra\n"))
    assert raised.value.location.line == 2


def test_bad_json_item_names_file_index_and_field(tmp_path: Path) -> None:
    items = [{"value": "ok.example"}, {"type": "ipv4", "value": "ok.example"}]
    path = write(tmp_path, "bad.json", json.dumps({"indicators": items}))
    with pytest.raises(InputError, match="not an IP address") as raised:
        load_indicator_file(path)
    assert raised.value.location.file == str(path)
    assert raised.value.location.field == "indicators[1].value"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"indicators": [1]}', "not an object"),
        ('{"items": []}', "expected a list"),
        ("[{]", "not valid JSON"),
        ('[{"value": "x.example", "tags": [1]}]', "tags must be strings"),
    ],
)
def test_malformed_json_is_rejected(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        load_indicator_file(write(tmp_path, "bad.json", text))


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        load_indicator_file(tmp_path / "absent.csv")
