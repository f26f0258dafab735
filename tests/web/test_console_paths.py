"""The console's links: path_for, which finds a route by name once, gives what url_for gives."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.routing import NoMatchFound

from bastion.web.rendering import path_for

SAMPLES = {"integer": 7, "string": "RAL 1", "path": "css/site.css", "float": 1.5, "uuid": "0" * 32}


def request_of(app: FastAPI, root_path: str) -> Request:
    return Request({
        "type": "http", "app": app, "router": app.router, "root_path": root_path,
        "path": f"{root_path}/", "headers": [], "query_string": b"", "server": ("h", 80),
        "scheme": "http",
    })  # fmt: skip


def named_routes(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    """Each named route with a value for each of its path parameters."""
    found = []
    for context in iter_route_contexts(app.routes):
        route: Any = context.route
        name, convertors = getattr(route, "name", None), getattr(route, "param_convertors", None)
        if name and convertors is not None:
            kinds = {
                k: type(c).__name__.removesuffix("Convertor").lower() for k, c in convertors.items()
            }
            found.append((name, {k: SAMPLES[kind] for k, kind in kinds.items()}))
    return found


@pytest.mark.parametrize("root_path", ["", "/bastion"])
def test_every_route_links_as_url_for_links_it(app: FastAPI, root_path: str) -> None:
    request = request_of(app, root_path)
    routes = named_routes(app)
    assert len(routes) > 100
    for _ in range(2):  # the second time from the routes found the first
        for name, params in routes:
            assert (
                path_for({"request": request}, name, **params)
                == request.url_for(name, **params).path
            )
    assert path_for({"request": request}, "case_page", case_id=12) == f"{root_path}/cases/12"
    with pytest.raises(NoMatchFound):  # a known name with parameters it does not take
        path_for({"request": request}, "case_page", nope=1)
