"""What a console handler is given: the request, the caller, what it may see, and how to answer.

Every console page took the same request, session, templates and principal, and
named its navigation section in every template context; a ``View`` bundles them,
so a handler states only what is its own. A module names its section once::

    Scan = Annotated[View, Depends(View.of("scan"))]

    @router.get("/scan/national", name="scan_national_page")
    def national_page(view: Scan) -> HTMLResponse:
        view.principal.require("scan:read")
        return view.render("scan/national.html", summary=...)

The console's router is ``PROTECTED``, so the principal is the one already resolved
(FastAPI caches it per request): a ``View`` checks nothing itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.templating import Jinja2Templates

from bastion.auth import Principal, Scope
from bastion.web.auth import PrincipalDep
from bastion.web.deps import SessionDep, TemplatesDep
from bastion.web.rendering import route_path


def see_other(url: str) -> RedirectResponse:
    """Answer a form post by sending the browser to ``url`` with a GET (303)."""
    return RedirectResponse(url, status_code=303)


@dataclass(frozen=True)
class View:
    """One console request: who asks, its store session, and the section its pages belong to."""

    request: Request
    session: Session
    templates: Jinja2Templates
    principal: Principal
    section: str  # the navigation bar's entry lit on the pages rendered

    @staticmethod
    def of(section: str) -> Callable[..., Awaitable[View]]:
        """Return the dependency giving a handler its ``View`` of ``section``."""

        async def resolve(  # no thread hop: it only bundles what is already resolved
            request: Request, session: SessionDep, templates: TemplatesDep, principal: PrincipalDep
        ) -> View:
            return View(request, session, templates, principal, section)

        resolve.__name__ = f"{section or 'console'}_view"
        return resolve

    @property
    def scope(self) -> Scope:
        """Return the organisations the caller may see (national: all of them)."""
        return self.principal.scope

    def render(self, template: str, /, **context: object) -> HTMLResponse:
        """Render ``template`` with ``context`` and the section."""
        return self.respond(template, context)

    def respond(
        self,
        template: str,
        context: Mapping[str, object],
        *,
        status_code: int = 200,
        no_store: bool = False,
    ) -> HTMLResponse:
        """Render ``template`` answering ``status_code``; ``no_store``: it shows a secret once."""
        response = self.templates.TemplateResponse(
            self.request, template, {"section": self.section, **context}, status_code=status_code
        )
        if no_store:
            response.headers["Cache-Control"] = "no-store"
        return response

    def path(self, route: str, /, **params: object) -> str:
        """Return the path (no scheme, no host) of the route ``route``."""
        return route_path(self.request, route, **params)

    def redirect(self, route: str, /, suffix: str = "", **params: object) -> RedirectResponse:
        """Send the browser on to the route ``route`` (with ``suffix``: a query or an anchor)."""
        return see_other(self.path(route, **params) + suffix)
