"""TAXII 2.1 collections, pulled with ``taxii2-client``.

The feed's URL is the collection's URL (``…/collections/<id>/``), or an API root
with the option ``collection``. Each pull asks only for objects added after the
last one (TAXII's ``added_after``, remembered as the feed's cursor from the
manifest's ``date_added``), so a pull adds and changes but never expires by
absence: a TAXII indicator ends by its ``valid_until`` or by being revoked.
"""

from __future__ import annotations

from typing import Any

import httpx
import requests
from taxii2client.exceptions import TAXIIServiceException  # type: ignore[import-untyped]
from taxii2client.v21 import Collection, as_pages  # type: ignore[import-untyped]

from bastion.core.errors import FetchError
from bastion.intel.feeds.registry import (
    FeedOptions,
    FeedState,
    FeedType,
    Fetched,
    Parsed,
    register,
)
from bastion.intel.feeds.stix import read_bundle, read_objects

PAGE = 500


def _collection_url(state: FeedState, options: FeedOptions) -> str:
    url = state.url if state.url.endswith("/") else state.url + "/"
    if options.collection:
        url = f"{url}collections/{options.collection}/"
    return url


def fetch_collection(client: httpx.Client, state: FeedState, options: FeedOptions) -> Fetched:
    """Pull the objects added to a TAXII 2.1 collection since the feed's cursor."""
    del client  # taxii2-client brings its own HTTP session
    url = _collection_url(state, options)
    auth: dict[str, Any] = {}
    if options.username:
        auth = {"user": options.username, "password": options.password}
    since: dict[str, Any] = {"added_after": state.cursor} if state.cursor else {}
    try:
        collection = Collection(url, **auth)
        cursor = state.cursor
        # The manifest first: objects added meanwhile come again next time, never never.
        for page in as_pages(collection.get_manifest, per_request=PAGE, **since):
            for record in page.get("objects", []) or []:
                added = str(record.get("date_added") or "")
                if added and (cursor is None or added > cursor):
                    cursor = added
        objects: list[Any] = []
        for page in as_pages(collection.get_objects, per_request=PAGE, **since):
            objects.extend(page.get("objects", []) or [])
    except (TAXIIServiceException, requests.RequestException, ValueError) as exc:
        msg = f"TAXII collection {url}: {exc}"
        raise FetchError(msg) from None
    if not objects and cursor == state.cursor:
        return Fetched(None, 200, cursor=cursor)
    return Fetched(read_objects(objects, options, url), 200, cursor=cursor)


def _read(content: bytes, options: FeedOptions, where: str) -> Parsed:
    return read_bundle(content, options, where)  # a saved TAXII envelope reads as objects


TAXII = register(
    FeedType(
        name="taxii",
        description="a TAXII 2.1 collection (its URL, or an API root with option collection)",
        read=_read,
        fetch=fetch_collection,
        snapshot=False,
    )
)
