"""The paging of a console list: its page count, the rows a page shows and its neighbours' links."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request

MAX_PAGE = 1_000_000

Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def page_link(
    request: Request, params: Mapping[str, str], number: int, *, number_first: bool = False
) -> str:
    """Return the link to page ``number`` of this list with ``params`` (empty ones left out).

    Page 1 goes without its number unless ``number_first``; a link with no query is the bare path.
    """
    numbered = {**params, "page": str(number) if number_first or number > 1 else ""}
    query = urlencode({k: v for k, v in numbered.items() if v})
    return f"{request.url.path}?{query}" if query else request.url.path


def paging(
    request: Request,
    page: int,
    total: int,
    shown: int,
    *,
    size: int,
    params: Mapping[str, str],
    number_first: bool = False,
) -> dict[str, object]:
    """Return what a list page's pager shows of ``total`` rows, ``shown`` of them on ``page``."""
    pages = max(1, -(-total // size))

    def link(number: int) -> str:
        return page_link(request, params, number, number_first=number_first)

    return {
        "page": page,
        "pages": pages,
        "total": total,
        "first": (page - 1) * size + 1,
        "last": (page - 1) * size + shown,
        "previous_link": link(page - 1) if page > 1 else None,
        "next_link": link(page + 1) if page < pages else None,
        "first_link": link(1),
    }
