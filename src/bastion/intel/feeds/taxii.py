"""TAXII 2.1 collections, pulled through the one fetcher of ``core.fetch``.

The feed's URL is the collection's URL (``…/collections/<id>/``), or an API root
with the option ``collection``. Each pull asks only for objects added after the
last one (TAXII's ``added_after``, remembered as the feed's cursor from the
manifest's ``date_added``), so a pull adds and changes but never expires by
absence: a TAXII indicator ends by its ``valid_until`` or by being revoked.
Answers come a page at a time: while an envelope says ``more``, its ``next``
token asks for the following page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx

from bastion.core import fetch
from bastion.core.documents import load_json
from bastion.core.errors import FetchError, InputError
from bastion.intel.feeds.base import FeedOptions, FeedState, FeedType, Fetched, Parsed
from bastion.intel.feeds.stix import read_bundle, read_objects

PAGE = 500
MEDIA_TYPE = "application/taxii+json;version=2.1"


def _collection_url(state: FeedState, options: FeedOptions) -> str:
    url = state.url if state.url.endswith("/") else state.url + "/"
    if options.collection:
        url = f"{url}collections/{options.collection}/"
    return url


def _pages(
    client: httpx.Client, url: str, options: FeedOptions, filters: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """Yield each envelope of a TAXII endpoint, following ``next`` while ``more`` is true."""
    auth = (options.username, options.password) if options.username else None
    query = {**filters, "limit": str(PAGE)}
    seen: set[str] = set()
    while True:
        page_url = f"{url}?{urlencode(query)}"
        answer = fetch.get(client, page_url, timeout=options.timeout, accept=MEDIA_TYPE, auth=auth)
        try:
            envelope = load_json(answer.body or b"{}", where=page_url)
        except InputError as exc:
            msg = f"not a TAXII envelope: {exc}"
            raise FetchError(msg, answer.status) from None
        if not isinstance(envelope, dict):
            msg = f"{page_url}: not a TAXII envelope (a JSON object)"
            raise FetchError(msg, answer.status)
        yield envelope
        token = str(envelope.get("next") or "")
        if not envelope.get("more") or not token:
            return
        if token in seen:  # a server that loops would keep the pull going forever
            msg = f"{page_url}: the server sent the page token {token!r} twice"
            raise FetchError(msg, answer.status)
        seen.add(token)
        query["next"] = token


def _objects(envelope: dict[str, Any]) -> list[Any]:
    found = envelope.get("objects") or []
    return found if isinstance(found, list) else []


def fetch_collection(client: httpx.Client, state: FeedState, options: FeedOptions) -> Fetched:
    """Pull the objects added to a TAXII 2.1 collection since the feed's cursor."""
    url = _collection_url(state, options)
    since = {"added_after": state.cursor} if state.cursor else {}
    cursor = state.cursor
    # The manifest first: objects added meanwhile come again next time, never never.
    for envelope in _pages(client, f"{url}manifest/", options, since):
        for record in _objects(envelope):
            added = str(record.get("date_added") or "") if isinstance(record, dict) else ""
            if added and (cursor is None or added > cursor):
                cursor = added
    objects: list[Any] = []
    for envelope in _pages(client, f"{url}objects/", options, since):
        objects.extend(_objects(envelope))
    if not objects and cursor == state.cursor:
        return Fetched(None, 200, cursor=cursor)
    return Fetched(read_objects(objects, options, url), 200, cursor=cursor)


def _read(content: bytes, options: FeedOptions, where: str) -> Parsed:
    return read_bundle(content, options, where)  # a saved TAXII envelope reads as objects


TAXII = FeedType(
    name="taxii",
    description="a TAXII 2.1 collection (its URL, or an API root with option collection)",
    read=_read,
    fetch=fetch_collection,
    snapshot=False,
)
