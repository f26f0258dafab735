"""The one HTTP fetcher: conditional GETs, the size cap, timeouts and failures, on injected clients."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from bastion.core import fetch
from bastion.core.errors import BastionError, FetchError

URL = "https://feeds.example/list.txt"


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return fetch.new_client(httpx.MockTransport(handler))


def test_a_get_returns_the_body_and_its_validators() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, content=b"evil.example\n", headers={"ETag": '"v1"', "Last-Modified": "Mon"}
        )

    with client(answer) as http:
        got = fetch.get(http, URL)
    assert (got.status, got.body, got.etag, got.last_modified) == (
        200,
        b"evil.example\n",
        '"v1"',
        "Mon",
    )
    assert not got.not_modified
    assert "If-None-Match" not in seen[0].headers
    assert seen[0].headers["User-Agent"].startswith("bastion/")


def test_validators_are_sent_and_a_304_has_no_body() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=b"changed")

    with client(answer) as http:
        got = fetch.get(http, URL, etag='"v1"', last_modified="Mon, 30 Nov 2026 10:00:00 GMT")
    assert got.not_modified
    assert (got.status, got.body, got.etag) == (304, None, '"v1"')
    assert got.last_modified == "Mon, 30 Nov 2026 10:00:00 GMT"  # kept for the next GET
    assert seen[0].headers["If-Modified-Since"] == "Mon, 30 Nov 2026 10:00:00 GMT"


def test_a_body_over_the_cap_is_refused_saying_how_much_is_allowed() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 1001)

    with client(answer) as http:
        assert fetch.get(http, URL, max_bytes=1001).body == b"x" * 1001
        with pytest.raises(FetchError) as raised:
            fetch.get(http, URL, max_bytes=1000)
    assert str(raised.value) == f"{URL} sent more than 1000 bytes, the most a feed may send"
    assert raised.value.status == 200


def test_a_streamed_body_without_a_length_is_cut_off_at_the_cap() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"x" * (1 << 20)] * 3))  # no Content-Length

    with client(answer) as http, pytest.raises(FetchError, match="sent more than 2 MiB"):
        fetch.get(http, URL, max_bytes=2 << 20)


def test_an_error_status_names_the_url_and_keeps_the_status() -> None:
    with client(lambda request: httpx.Response(503)) as http, pytest.raises(FetchError) as raised:
        fetch.get(http, URL)
    assert str(raised.value) == f"{URL} answered HTTP 503 Service Unavailable"
    assert raised.value.status == 503
    assert isinstance(raised.value, BastionError)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A local server that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed.json"
    done.set()
    thread.join(5)
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_server_that_does_not_answer_times_out(silent_server: str) -> None:
    with fetch.new_client() as http, pytest.raises(FetchError) as raised:
        fetch.get(http, silent_server, timeout=0.2)
    assert str(raised.value) == f"{silent_server} did not answer within 0.2 s"
    assert raised.value.status is None


def test_an_unreachable_server_is_a_fetch_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (
        client(refuse) as http,
        pytest.raises(FetchError, match=f"^cannot fetch {re.escape(URL)}: "),
    ):
        fetch.get(http, URL)
