"""Console links are built from a dictionary of route names: the same paths as the router's."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.routing import NoMatchFound

from bastion.web.rendering import RouteNames, route_path

PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
# Values a path parameter may hold: escaping, separators, non-ASCII, an empty one.
VALUES = ("RAL", "a b/c?d#e%f&g", "builtin:port-scan:x", "é ü", "")


def outcome(
    build: Callable[[str, dict[str, str]], object], name: str, params: dict[str, str]
) -> str:
    """The path ``build`` returns, or the error it raises (a value a route refuses)."""
    try:
        return str(build(name, params))
    except (AssertionError, NoMatchFound) as error:
        return f"{type(error).__name__}: {error}"


def routed(app: FastAPI) -> list[tuple[str, list[str]]]:
    """Every named route of ``app`` with its path parameters' names."""
    return [
        (context.route.name, PARAMETER.findall(str(context.path)))
        for context in iter_route_contexts(app.routes)
        if getattr(context.route, "name", None)
    ]


def test_every_route_name_builds_the_routers_own_path(sqlite_app: FastAPI) -> None:
    names = RouteNames(sqlite_app.router)

    def router(name: str, params: dict[str, str]) -> object:
        return sqlite_app.router.url_path_for(name, **params)

    checked = 0
    for name, keys in routed(sqlite_app):
        for value in VALUES:
            params = dict.fromkeys(keys, value)
            expected = outcome(router, name, params)
            for _ in range(2):  # found by walking, then from the dictionary
                assert outcome(names.path_for, name, params) == expected, (name, params)
            checked += expected.startswith("/")
    assert checked > 150 * len(VALUES)
    assert str(names.path_for("static", {"path": "/css/console.css"})) == "/static/css/console.css"


def test_a_wrong_name_or_parameter_is_no_match(sqlite_app: FastAPI) -> None:
    names = RouteNames(sqlite_app.router)
    assert str(names.path_for("org_page", {"code": "RAL"})) == "/orgs/RAL"
    with pytest.raises(NoMatchFound):
        names.path_for("org_page", {})  # the same name, its parameter left out
    with pytest.raises(NoMatchFound):
        names.path_for("org_page", {"code": "RAL", "extra": "1"})
    with pytest.raises(NoMatchFound):
        names.path_for("no_such_route", {})


def test_route_path_is_under_the_apps_root_path(sqlite_app: FastAPI) -> None:
    for root in ("", "/bastion"):
        request = Request(
            {"type": "http", "method": "GET", "path": "/", "root_path": root, "headers": [],
             "query_string": b"", "server": ("testserver", 80), "scheme": "http",
             "router": sqlite_app.router, "app": sqlite_app}
        )  # fmt: skip
        assert (
            route_path(request, "org_page", code="a b")
            == request.url_for("org_page", code="a b").path
        )
        assert route_path(request, "org_page", code="a b") == f"{root}/orgs/a b"


def test_a_route_added_later_is_found(sqlite_app: FastAPI) -> None:
    names = RouteNames(sqlite_app.router)
    names.path_for("overview", {})
    with pytest.raises(NoMatchFound):
        names.path_for("added_later_for_this_test", {})
    sqlite_app.router.add_api_route("/added-later", lambda: None, name="added_later_for_this_test")
    try:
        assert str(names.path_for("added_later_for_this_test", {})) == "/added-later"
    finally:
        sqlite_app.router.routes.pop()
