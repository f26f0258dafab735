"""The app factory: one FastAPI app over one store, with the API, the console and static assets."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bastion import __version__, auth
from bastion.core.settings import Settings
from bastion.detect import RuleCatalogue
from bastion.passwords import CheckTally
from bastion.store import Store
from bastion.web import api, blocklists, console, health, passwords, status
from bastion.web.errors import install_error_handlers
from bastion.web.oidc import OidcClient, OidcConfig
from bastion.web.rendering import STATIC_DIR, make_templates
from bastion.web.security import (
    BodyLimit,
    JsonDepthLimit,
    SecurityHeaders,
    make_limiters,
    redact_access_log,
)

# Shared by every server process on one database (or one Redis, with ``redis_url``).
SIGNIN_LIMIT = (20, 60.0)  # sign-in attempts per address per minute
API_LIMIT = (600, 60.0)  # API requests per person or token per minute
RANGE_LIMIT = (1200, 60.0)  # breached-password range requests per client address per minute

DESCRIPTION = (
    "Bastion's JSON API: the federation's organisations, their networks, contacts and hosts, "
    "and the alerts raised at their internet boundary. "
    "Every call needs `Authorization: Bearer <token>` (create one with `bastion tokens create`) "
    "or a signed-in console session; another organisation's objects answer 404. "
    'Errors answer `{"detail": "..."}`; invalid input answers 422 and names each field.'
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # What the process built to serve (modules, the app, its routes, models and templates)
    # lives as long as it does: frozen out of the cyclic collector's reach, a full
    # collection then scans what requests leave, not the whole heap (a scan of it cost
    # console pages 15-25 ms). Unfrozen at shutdown, for a process that goes on.
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
    app.state.check_tally.flush()  # what the last second counted, before the process ends


def create_app(
    store: Store,
    settings: Settings,
    *,
    signin_limit: tuple[int, float] = SIGNIN_LIMIT,
    api_limit: tuple[int, float] = API_LIMIT,
    range_limit: tuple[int, float] = RANGE_LIMIT,
    oidc: OidcConfig | None = None,
) -> FastAPI:
    """Build the web app over ``store``; the caller owns the store and disposes of it.

    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` count only from the addresses in
    ``settings.trusted_proxies``; from anyone else the connecting address is the client.

    Authentication is a dependency of the API and console routers, not a
    middleware: /health, /static and routers other contexts add with their own
    credentials (``/blocklists``) stay outside it.
    """
    app = FastAPI(
        title="Bastion",
        version=__version__,
        summary="Cyber defence for a federation of health and care organisations",
        description=DESCRIPTION,
        # FastAPI's /docs and /redoc pull Swagger UI and ReDoc from a CDN; the console
        # serves its own reference at /docs instead, so nothing loads from outside.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_lifespan,
        openapi_tags=[
            {"name": "organisations", "description": "The federation's member organisations"},
            {"name": "alerts", "description": "Indicator and rule alerts raised at the boundary"},
            {"name": "intel", "description": "Threat indicators, sightings, feeds and pulls"},
            {"name": "rules", "description": "Sigma detection rules, their tuning and alerts"},
            {"name": "events", "description": "Archived events of the caller's organisations"},
            {"name": "hunts", "description": "SQL over the whole event archive, national only"},
            {"name": "account", "description": "Who the caller is"},
            {"name": "audit", "description": "The append-only audit trail"},
            {"name": "health", "description": "Liveness and database checks"},
        ],
    )
    app.state.store = store
    app.state.check_tally = CheckTally(store)  # password checks, counted a second later
    app.state.settings = settings
    app.state.templates = make_templates()
    app.state.principals = auth.PrincipalCache()  # who a session is, between role changes
    limiters = make_limiters(
        store,
        settings.redis_url,
        {"signin": signin_limit, "api": api_limit, "range": range_limit},
    )
    app.state.signin_limiter = limiters["signin"]
    app.state.api_limiter = limiters["api"]
    app.state.range_limiter = limiters["range"]
    app.state.oidc = OidcClient(oidc) if oidc else None
    app.state.rule_catalogue = RuleCatalogue(settings.rules_dir, settings.rule_placeholders)
    install_error_handlers(app)
    redact_access_log()
    app.add_middleware(JsonDepthLimit)  # inside BodyLimit: what it buffers is bounded
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    if settings.trusted_proxies:
        # Outermost, so the limits, the audit trail and HSTS all see the client the
        # proxy names; from any other peer X-Forwarded-* are ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    app.include_router(health.router)
    # The range API first: clients call it the most, and a request is matched route by route.
    app.include_router(passwords.router)
    passwords.document(app)
    app.include_router(api.router)
    app.include_router(blocklists.router)
    app.include_router(status.router)
    app.include_router(console.public)
    app.include_router(console.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
