"""`bastion serve`: run the web console and the JSON API."""

from __future__ import annotations

import os
from typing import Any

import typer

from bastion.cli.context import settings, store


def console_url(host: str, port: int) -> str:
    """Return the URL people open for ``host``:``port`` (an IPv6 address in brackets)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def uvicorn_options(host: str, port: int) -> dict[str, Any]:
    """Return the options ``bastion serve`` runs uvicorn with.

    uvicorn's own proxy handling is off (by default it believes ``X-Forwarded-For``
    from 127.0.0.1): the app applies forwarding headers itself, only from the
    proxies named in the ``trusted_proxies`` setting. Connections send at once
    (``web.tcp``: Nagle's algorithm off, or keep-alive requests wait 40 ms).
    """
    return {
        "host": host,
        "port": port,
        # bastion.web.tcp, named not imported: other commands do not load uvicorn.
        "http": "bastion.web.tcp:NoDelayHttpToolsProtocol",
        "server_header": False,
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "log_level": "info",
    }


def serve(
    host: str | None = typer.Option(
        None, "--host", help="address to bind; default web_host from the settings (127.0.0.1)"
    ),
    port: int | None = typer.Option(
        None,
        "--port",
        min=1,
        max=65535,
        help="port to bind; default web_port from the settings (8000)",
    ),
) -> None:
    """Run the web console and the JSON API until interrupted."""
    # Imported here so the other commands do not pay for FastAPI and uvicorn at start-up.
    import uvicorn

    from bastion.web import create_app
    from bastion.web.oidc import OidcConfig

    config = settings()
    opened = store()  # raises StoreError, one line, when `bastion init` has not run
    bind_host = host or config.web_host
    bind_port = port or config.web_port
    typer.echo(f"Bastion console: {console_url(bind_host, bind_port)}")
    try:
        uvicorn.run(
            create_app(opened, config, oidc=OidcConfig.from_env(os.environ)),
            **uvicorn_options(bind_host, bind_port),
        )
    finally:
        opened.dispose()
