"""Outbound HTTP: one GET for every feed, with a size cap, timeouts and conditional requests.

Callers pass the ``httpx.Client`` to use, so a test hands in one built on an
``httpx.MockTransport`` (or points it at a local server) and nothing is patched;
``new_client`` makes the default one. A GET sends the validators of the last
answer (``If-None-Match`` for an ETag, ``If-Modified-Since`` for a
Last-Modified date) and a 304 comes back as a ``Download`` without a body. Any
failure raises ``FetchError`` saying what and which URL: unreachable, no answer
within the timeout, an error status, or a body larger than the cap, which is
refused before it is held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bastion import __version__
from bastion.core.errors import FetchError

MAX_BYTES = 512 << 20  # a body larger than this is refused rather than held in memory
TIMEOUT = 30.0  # seconds to connect, and between any two reads


@dataclass(frozen=True)
class Download:
    """A successful GET: the body and its validators, or ``body is None`` when not modified."""

    url: str
    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        """Tell whether the server said nothing changed since the validators sent (304)."""
        return self.body is None


def new_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """Return a client that follows redirects and names Bastion, over ``transport`` if given."""
    return httpx.Client(
        transport=transport,
        follow_redirects=True,
        headers={"User-Agent": f"bastion/{__version__}"},
    )


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count >= 1 << 20 and count % (1 << 20) == 0 else f"{count} bytes"


def get(
    client: httpx.Client,
    url: str,
    *,
    timeout: float = TIMEOUT,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = MAX_BYTES,
    accept: str = "*/*",
    auth: tuple[str, str] | None = None,
) -> Download:
    """GET ``url``, conditionally when validators are given; raise FetchError on any failure.

    ``accept`` is the media type asked for; ``auth`` a user name and password for
    HTTP basic authentication.
    """
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    too_large = f"{url} sent more than {_size(max_bytes)}, the most a feed may send"
    try:
        with client.stream(
            "GET", url, headers=headers, timeout=timeout, auth=auth or httpx.USE_CLIENT_DEFAULT
        ) as response:
            if response.status_code == httpx.codes.NOT_MODIFIED:
                return Download(url, response.status_code, None, etag, last_modified)
            if response.status_code >= httpx.codes.BAD_REQUEST:
                msg = f"{url} answered HTTP {response.status_code} {response.reason_phrase}"
                raise FetchError(msg, response.status_code)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(too_large, response.status_code)
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(too_large, response.status_code)
                chunks.append(chunk)
            return Download(
                url,
                response.status_code,
                b"".join(chunks),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
            )
    except httpx.TimeoutException:
        msg = f"{url} did not answer within {timeout:g} s"
        raise FetchError(msg) from None
    except httpx.HTTPError as exc:
        msg = f"cannot fetch {url}: {exc}"
        raise FetchError(msg) from None
