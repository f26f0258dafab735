"""Fetching a feed that is one document at a URL, through the one fetcher of ``core.fetch``."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from bastion.core import fetch
from bastion.intel.feeds.base import FeedOptions, FeedState, FeedType, Fetched, Fetcher, Reader


def fetch_document(read: Reader) -> Fetcher:
    """Return a fetcher that GETs one document conditionally and reads it with ``read``."""

    def fetch_feed(client: httpx.Client, state: FeedState, options: FeedOptions) -> Fetched:
        answer = fetch.get(
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

    return fetch_feed


def document_feed(
    name: str, description: str, read: Reader, *, detect: Callable[[bytes], bool] | None = None
) -> FeedType:
    """Return a feed type that is one document at a URL (a snapshot: each pull lists all it holds)."""
    return FeedType(name, description, read, fetch_document(read), detect=detect)
