"""Fetching a feed over HTTP with httpx: conditional GETs (ETag, If-Modified-Since), clear failures."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bastion.intel.feeds.registry import (
    FeedOptions,
    FeedState,
    Fetched,
    Fetcher,
    FetchError,
    Reader,
)

MAX_BYTES = 512 << 20  # a feed larger than this is refused rather than held in memory


@dataclass(frozen=True)
class Response:
    """A successful GET: its body and validators, or ``body is None`` when not modified."""

    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None


def get(
    client: httpx.Client,
    url: str,
    *,
    timeout: float,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Response:
    """GET ``url``, conditionally when validators are given; raise FetchError on any failure."""
    headers = {"Accept": "*/*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code == httpx.codes.NOT_MODIFIED:
                return Response(304, None, etag, last_modified)
            if response.status_code >= httpx.codes.BAD_REQUEST:
                msg = f"{url} answered HTTP {response.status_code} {response.reason_phrase}"
                raise FetchError(msg, response.status_code)
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    msg = f"{url} sent more than {MAX_BYTES >> 20} MiB"
                    raise FetchError(msg, response.status_code)
                chunks.append(chunk)
            return Response(
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


def fetch_document(read: Reader) -> Fetcher:
    """Return a fetcher that GETs one document conditionally and reads it with ``read``."""

    def fetch(client: httpx.Client, state: FeedState, options: FeedOptions) -> Fetched:
        answer = get(
            client,
            state.url,
            timeout=options.timeout,
            etag=state.etag,
            last_modified=state.last_modified,
        )
        if answer.body is None:
            return Fetched(None, answer.status, state.etag, state.last_modified)
        return Fetched(
            read(answer.body, options, state.url), answer.status, answer.etag, answer.last_modified
        )

    return fetch
