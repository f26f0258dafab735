"""The range API answers as HIBP's does: a real HIBP client gets the reference's answers."""

from __future__ import annotations

import random
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pwnedpasswords
import pytest
import uvicorn
from fastapi import FastAPI
from tests.passwords.conftest import Corpus, sha1_reference

from bastion.core.settings import Settings
from bastion.store import Store
from bastion.web.app import create_app
from bastion.web.security import SqlRateLimiter

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def range_app(sqlite_store: Store, corpus: Corpus, tmp_path: Path) -> FastAPI:
    return create_app(sqlite_store, Settings(data_dir=tmp_path, passwords_path=corpus.root))


@pytest.fixture
async def client(range_app: FastAPI) -> Iterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=range_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class ToBastion(urllib.request.BaseHandler):
    """Send the client's https://api.pwnedpasswords.com requests to Bastion's base URL instead.

    The library has its base URL written in; this is what a forward proxy or a DNS
    override does for such a client in production.
    """

    def __init__(self, base: str) -> None:
        self.base = base

    def https_request(self, request: urllib.request.Request) -> urllib.request.Request:
        parts = urlsplit(request.full_url)
        request.full_url = f"{self.base}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return request


@pytest.fixture
def live_server(range_app: FastAPI) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(range_app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    urllib.request.install_opener(urllib.request.build_opener(ToBastion(base)))
    yield base
    urllib.request.install_opener(None)  # type: ignore[arg-type]
    server.should_exit = True
    thread.join(timeout=10)


def test_the_pwnedpasswords_client_gets_the_reference_answers(
    live_server: str, corpus: Corpus
) -> None:
    rng = random.Random(11)
    breached = rng.sample(corpus.passwords, 150)
    unbreached = [f"not-in-the-list-{rng.getrandbits(64):x}" for _ in range(50)]
    for password in breached + unbreached:
        expected = corpus.reference["sha1"].get(sha1_reference(password), 0)
        assert pwnedpasswords.check(password) == expected, password
    # A whole range, through the client, equals the reference's suffixes and counts.
    digest = sha1_reference(breached[0])
    reference = {h[5:]: c for h, c in corpus.reference["sha1"].items() if h.startswith(digest[:5])}
    assert pwnedpasswords.Password(breached[0]).range() == reference


async def test_ntlm_mode_padding_case_and_crlf(client: httpx.AsyncClient, corpus: Corpus) -> None:
    digest = next(iter(corpus.reference["ntlm"]))
    answer = await client.get(f"/range/{digest[:5].lower()}", params={"mode": "ntlm"})
    assert answer.status_code == 200
    lines = answer.text.split("\r\n")
    expected = {h[5:]: c for h, c in corpus.reference["ntlm"].items() if h.startswith(digest[:5])}
    assert {s: int(c) for s, c in (line.split(":") for line in lines)} == expected
    assert all(len(line.split(":")[0]) == 27 for line in lines)
    padded = await client.get(
        f"/range/{digest[:5]}", params={"mode": "ntlm"}, headers={"Add-Padding": "true"}
    )
    rows = dict(line.split(":") for line in padded.text.split("\r\n"))
    assert 800 <= len(rows) <= 1000
    assert {s: int(c) for s, c in rows.items() if c != "0"} == expected
    assert all(s == s.upper() and len(s) == 27 for s in rows)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/range/ABCD", {}),
        ("/range/ABCDEF", {}),
        ("/range/ABCDG", {}),
        ("/range/%20ABCD", {}),
        ("/range/ABCDE", {"mode": "md5"}),
    ],
)
async def test_anything_but_five_hex_digits_is_a_400(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    answer = await client.get(path, params=params)
    assert answer.status_code == 400


async def test_etag_answers_304_and_caching_headers(client: httpx.AsyncClient) -> None:
    first = await client.get("/range/21BD1")
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = await client.get("/range/21bd1", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


async def test_a_client_over_its_limit_gets_429(
    client: httpx.AsyncClient, range_app: FastAPI, sqlite_store: Store
) -> None:
    range_app.state.range_limiter = SqlRateLimiter(sqlite_store, "range", 3, 60.0)
    codes = [(await client.get("/range/21BD1")).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


async def test_the_openapi_description_documents_the_range_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"]["/range/{prefix}"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "prefix",
        "mode",
        "Add-Padding",
        "If-None-Match",
    }
    assert "/api/v1/passwords/check" in spec["paths"]  # FastAPI's own paths are all still there


async def test_a_padded_answer_is_valid_hibp_text_with_the_real_rows(
    client: httpx.AsyncClient, corpus: Corpus
) -> None:
    plain = (await client.get("/range/21BD1")).text.split("\r\n")
    padded = (await client.get("/range/21BD1", headers={"Add-Padding": "true"})).text
    assert not padded.endswith("\r\n")
    lines = padded.split("\r\n")
    assert 800 <= len(lines) <= 1000
    assert lines == sorted(lines)
    assert [line for line in lines if not line.endswith(":0")] == plain
