"""Hostile documents through every importer and every JSON API body: refused, never a crash.

Each reader gets deep nesting, huge strings, wrong types inside the right
envelope, invalid UTF-8, NaN, duplicate keys and XML entity and DTD tricks.
An importer may accept what it can use or raise the project's InputError
family; anything else (RecursionError, AttributeError, a 500) fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import sqlite_copy

from bastion import advisories, intel, orgs
from bastion.audit import Actor
from bastion.auth import users as auth_users
from bastion.boundary.parsers import ParseContext, detect_format, get_parser
from bastion.core.documents import MAX_DEPTH, json_depth, load_json, load_xml
from bastion.core.errors import FormatError, InputError, LimitExceeded
from bastion.core.events import LINE_COLUMN
from bastion.core.settings import Settings
from bastion.intel import feeds
from bastion.orgs import csvio
from bastion.web import create_app
from bastion.web.auth import CSRF_HEADER, SESSION_COOKIE
from bastion.web.oidc import Flow
from bastion.web.testing import FAST_HASHER, create_people, open_session

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# --- the hostile documents ---------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

# The envelope each importer looks for, so wrong types reach the code past detection.
ENVELOPES: list[Callable[[Any], Any]] = [
    lambda v: {"bomFormat": "CycloneDX", "specVersion": "1.4", "components": v, "metadata": v},
    lambda v: {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [v],
        "vulnerabilities": v,
    },
    lambda v: {
        "bomFormat": "CycloneDX",
        "specVersion": "1.4",
        "components": [{"name": v, "version": v, "purl": v, "components": v}],
    },
    lambda v: {"spdxVersion": "SPDX-2.3", "packages": v},
    lambda v: {
        "spdxVersion": "SPDX-2.3",
        "packages": [{"name": v, "versionInfo": v, "externalRefs": v}],
    },
    lambda v: {"@context": "https://openvex.dev/ns/v0.2.0", "statements": v},
    lambda v: {"type": "bundle", "objects": v},
    lambda v: {
        "type": "bundle",
        "objects": [
            {
                "type": "indicator",
                "id": "indicator--1",
                "pattern": v,
                "valid_from": v,
                "object_marking_refs": v,
            }
        ],
    },
    lambda v: {"Event": v},
    lambda v: {"Event": {"info": v, "Attribute": v, "Object": v, "Tag": v}},
    lambda v: {"response": [v]},
    lambda v: {"indicators": v},
    lambda v: [{"value": v, "type": v, "tags": v, "confidence": v}],
    lambda v: {"catalogVersion": "1", "vulnerabilities": v},
    lambda v: {"catalogVersion": "1", "vulnerabilities": [{"cveID": v, "dateAdded": v}]},
    lambda v: {"dataType": "CVE_RECORD", "cveMetadata": v, "containers": v},
    lambda v: {"id": "GHSA-x", "affected": v, "modified": v},
    lambda v: {
        "id": "GHSA-x",
        "affected": [{"package": v, "ranges": v, "versions": v}],
        "modified": "2024-01-01T00:00:00Z",
    },
    lambda v: v,
]

TEST = Actor.cli("test")


def deep(depth: int, opener: str) -> bytes:
    closer = {"[": "]", '{"a":': "}", '[{"a":': "}]"}[opener]
    return (opener * depth + "1" + closer * depth).encode()


deep_json = st.builds(
    deep, st.integers(MAX_DEPTH + 1, 30_000), st.sampled_from(["[", '{"a":', '[{"a":'])
) | st.integers(MAX_DEPTH + 1, 100_000).map(lambda n: b"[" * n)

wrong_types = st.builds(
    lambda envelope, value: json.dumps(envelope(value)).encode(),
    st.sampled_from(ENVELOPES),
    json_values,
)

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY a "lol">'
    + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9)
    )
    + b"]><bom xmlns='http://cyclonedx.org/schema/bom/1.4'>&j;</bom>"
)
CYCLONEDX_XML = "<bom xmlns='http://cyclonedx.org/schema/bom/1.4'>{}</bom>"

fixed = st.sampled_from(
    [
        b"[NaN]",
        b'{"a": Infinity}',
        b"[1e999]",
        b"[" + b"9" * 5000 + b"]",
        b'{"bomFormat": "CycloneDX", "bomFormat": "SPDX", "specVersion": "1.4"}',
        b'{"a": "\xff\xfe"}',
        b"\xef\xbb\xbf{}",
        b'"' + b"a" * 3_000_000 + b'"',
        b'{"indicators": [{"value": "' + b"x" * 2_000_000 + b'"}]}',
        BILLION_LAUGHS,
        b'<?xml version="1.0"?><!DOCTYPE bom SYSTEM "http://127.0.0.1:9/x.dtd"><bom/>',
        b'<!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]><bom>&x;</bom>',
        CYCLONEDX_XML.format("<components>" * 5000 + "</components>" * 5000).encode(),
        CYCLONEDX_XML.format(
            "<components><component>" * 3000 + "</component></components>" * 3000
        ).encode(),
        CYCLONEDX_XML.format(
            "<components><component><name>" + "n" * 1_000_000 + "</name></component></components>"
        ).encode(),
    ]
)


@dataclass(frozen=True)
class Document:
    """A hostile document that shows itself briefly when Hypothesis reports it."""

    data: bytes

    def __repr__(self) -> str:
        more = "..." if len(self.data) > 60 else ""
        return f"Document({self.data[:60]!r}{more}, {len(self.data):,} bytes)"


hostile = (deep_json | wrong_types | fixed | st.binary(max_size=200)).map(Document)

# --- the importers -----------------------------------------------------------------

OPTIONS = feeds.FeedOptions(source="fuzz")


def importers() -> Iterator[tuple[str, Callable[[bytes], object]]]:
    """Yield every reader of untrusted documents, by name, as a function of the bytes."""
    for name, feed_type in sorted(feeds.FEED_TYPES.items()):
        yield f"feed:{name}", lambda data, t=feed_type: t.read(data, OPTIONS, "fuzz")
    yield (
        "intel:bastion-json",
        lambda data: intel.read_indicators_json(
            data.decode("utf-8", "replace"), "fuzz.json", "fuzz"
        ),
    )
    yield (
        "intel:bastion-csv",
        lambda data: intel.read_indicators_csv(data.decode("utf-8", "replace"), "fuzz.csv", "fuzz"),
    )
    yield "inventory:auto", lambda data: advisories.parse_inventory(data, "fuzz")
    for name in sorted(advisories.INTEL_FORMATS):
        yield f"advisory:{name}", lambda data, f=name: advisories.parse_intel(data, "fuzz", f)
    yield "advisory:auto", lambda data: advisories.parse_intel(data, "fuzz")
    for name in sorted(csvio.FORMATS):
        yield (
            f"orgs:{name}",
            lambda data, f=name: orgs.read_organisations(
                data.decode("utf-8", "replace"), "fuzz.csv", f
            ),
        )


def test_every_registered_format_is_driven() -> None:
    names = {name for name, _ in importers()}
    assert {f"feed:{n}" for n in feeds.FEED_TYPES} <= names
    assert {f"advisory:{n}" for n in advisories.INTEL_FORMATS} <= names
    assert {f"orgs:{n}" for n in csvio.FORMATS} <= names
    # The inventory formats are reached through detection: one envelope (or XML) for each.
    assert set(advisories.INVENTORY_FORMATS) == {
        "cyclonedx-json",
        "cyclonedx-xml",
        "spdx-json",
        "csv",
    }


def read_as_each_importer(data: bytes) -> None:
    for name, read in importers():
        try:
            read(data)
        except InputError:
            pass
        except Exception as exc:
            raise AssertionError(f"{name} crashed on a hostile document: {exc!r}") from exc


@FUZZ
@given(hostile)
def test_importers_refuse_hostile_documents_with_input_errors(document: Document) -> None:
    read_as_each_importer(document.data)


@FUZZ
@given(json_values)
def test_inventory_formats_take_any_parsed_document(value: Any) -> None:
    for name, parse in advisories.INVENTORY_FORMATS.items():
        if name in {"cyclonedx-json", "spdx-json"}:
            for envelope in ENVELOPES[:5]:
                doc = envelope(value)
                if isinstance(doc, dict):
                    with contextlib.suppress(InputError):
                        parse(doc, "fuzz")


# --- the readers' own bounds -------------------------------------------------------


def test_deep_json_is_refused_before_parsing_with_where() -> None:
    with pytest.raises(LimitExceeded, match=r"^upload\.json: the document nests 100000 arrays"):
        load_json(b"[" * 100_000, where="upload.json")


def test_depth_counts_no_bracket_inside_a_string() -> None:
    assert json_depth(r'["[[[\"[[", {"a": "}}\\", "b": [[]]}]') == 4
    assert json_depth('"unterminated [[[[') == 0
    load_json(json.dumps([["[" * 500]]).encode(), where="x")  # brackets in a string are text


def test_a_document_over_the_size_bound_is_refused() -> None:
    with pytest.raises(LimitExceeded, match="at most 10"):
        load_json(b"[1, 2, 3, 4]", where="x", max_bytes=10)
    with pytest.raises(LimitExceeded, match="at most 10"):
        load_xml(b"<bom>12345</bom>", where="x", max_bytes=10)


@pytest.mark.parametrize(
    "data", [b"[NaN]", b'{"a": -Infinity}', b"[1e400]", b'["\xff"]', b"[" + b"1" * 5000 + b"]"]
)
def test_what_json_lacks_is_a_format_error(data: bytes) -> None:
    with pytest.raises(FormatError, match="not valid JSON"):
        load_json(data, where="x")


def test_deep_xml_is_refused() -> None:
    with pytest.raises(LimitExceeded, match="nests 5001 elements deep"):
        load_xml(b"<a>" * 5001 + b"</a>" * 5001, where="x")


# --- every JSON body of the API ----------------------------------------------------


class Web:
    """A signed-in national administrator's client of the app, one request batch at a time."""

    def __init__(self, app: FastAPI, cookie: str, csrf: str) -> None:
        self.app = app
        self.cookie = cookie
        self.csrf = csrf

    def send(self, requests: list[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
        """Send each request signed in, except those that would end the shared session."""

        async def go() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous,
                httpx.AsyncClient(
                    transport=transport,
                    base_url="http://testserver",
                    cookies={SESSION_COOKIE: self.cookie},
                    headers={CSRF_HEADER: self.csrf},
                ) as signed_in,
            ):
                return [
                    await (anonymous if p.startswith("/signout") else signed_in).request(m, p, **kw)
                    for m, p, kw in requests
                ]

        return asyncio.run(go())


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> Iterator[Web]:
    folder = tmp_path_factory.mktemp("hostile")
    store = sqlite_copy(migrated_sqlite, folder / "bastion.db")
    with store.session() as session:
        for code in ("RAL", "RJ1"):
            orgs.save_organisation(
                session, orgs.Organisation(code, code, orgs.OrgType.TRUST), actor=TEST
            )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_users, "HASHER", FAST_HASHER)
        cookie, csrf = open_session(store, create_people(store)["admin"])
    app = create_app(
        store, Settings(data_dir=folder), signin_limit=(10**6, 60.0), api_limit=(10**6, 60.0)
    )
    yield Web(app, cookie, csrf)
    store.dispose()


def writing_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every POST/PUT/PATCH route of the app, included routers flattened, parameters filled in."""
    found = []
    for context in iter_route_contexts(app.routes):
        for method in sorted((context.methods or set()) & {"POST", "PUT", "PATCH"}):
            path = re.sub(
                r"\{(\w+)(?::\w+)?\}",
                lambda m: "1" if m.group(1).endswith("id") else "RAL",
                str(context.path),
            )
            found.append((method, path))
    return found


def test_the_app_has_json_bodies_to_probe(web: Web) -> None:
    routes = writing_routes(web.app)
    assert ("POST", "/api/v1/intel/import") in routes
    assert len(routes) > 20


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=hostile)
def test_no_json_body_makes_a_500(web: Web, document: Document) -> None:
    data = document.data
    json_body = {"content": data, "headers": {"content-type": "application/json"}}
    requests = [(m, p, json_body) for m, p in writing_routes(web.app)]
    requests.append(("POST", "/api/v1/intel/import", {"files": {"file": ("fuzz.json", data)}}))
    failures = [
        f"{method} {path}: {answer.status_code} {answer.text[:200]}"
        for (method, path, _), answer in zip(requests, web.send(requests), strict=True)
        if answer.status_code >= 500
    ]
    assert not failures, failures


def test_a_deep_json_body_answers_413_saying_how_deep(web: Web) -> None:
    deep_body = {"content": b"[" * 100_000, "headers": {"content-type": "application/json"}}
    answers = web.send(
        [
            ("POST", "/api/v1/organisations", deep_body),
            ("PUT", "/api/v1/rules/1/tuning", deep_body),
        ]
    )
    for answer in answers:
        assert answer.status_code == 413
        assert answer.json()["detail"] == (
            "body: the JSON nests 100000 arrays or objects deep; at most 64 are read"
        )
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_deep_upload_answers_413_naming_the_file(web: Web) -> None:
    [answer] = web.send(
        [("POST", "/api/v1/intel/import", {"files": {"file": ("deep.json", b"[" * 100_000)}})]
    )
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith("deep.json: the document nests 100000 arrays")


def test_the_cli_says_one_line_for_a_deep_file(tmp_path: Path, bastion: Callable[..., Any]) -> None:
    deep_file = tmp_path / "deep.json"
    deep_file.write_bytes(b"[" * 100_000)
    assert bastion("init").exit_code == 0
    result = bastion("intel", "import", str(deep_file))
    assert result.exit_code != 0
    assert result.stderr.count("\n") == 1
    assert "nests 100000 arrays or objects deep" in result.stderr


# --- JSON log lines ----------------------------------------------------------------


def test_a_deeply_nested_ecs_line_is_a_reject_not_a_crash() -> None:
    good = '{"@timestamp": "2024-05-01T10:00:00Z", "source": {"ip": "10.0.0.1"}}'
    deep_line = '{"a":' * 200_000 + "1" + "}" * 200_000
    arrays = '{"@timestamp": "2024-05-01T10:00:00Z", "x": ' + "[" * 100 + "]" * 100 + "}"
    wide = '{"@timestamp": "2024-05-01T10:00:00Z", "tags": [' + ",".join(["[]"] * 200) + "]}"
    lines = [good, deep_line, arrays, wide]
    assert detect_format([good] * 4 + [deep_line]).name == "ecs"  # the sniffers survive it
    result = get_parser("ecs").parse(pl.Series(lines, dtype=pl.String), ParseContext())
    reasons = dict(result.rejects.iter_rows())
    assert sorted(result.events.get_column(LINE_COLUMN).to_list()) == [0, 3]
    assert "nests 200000 arrays or objects deep; at most 64 are read" in reasons[1]
    assert "nests 101 arrays or objects deep" in reasons[2]


def test_a_deeply_nested_sign_in_cookie_is_no_flow() -> None:
    assert Flow.from_cookie("[" * 5000) is None
