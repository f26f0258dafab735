"""What the live-server tests share: Debian's chromium, a server in a thread, signing in.

Imported by the browser test modules (their ``browser`` fixture comes from here).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bastion import auth
from bastion.web.testing import PASSWORD, Person

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def serving(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve the ASGI ``app`` on 127.0.0.1 (at ``port``, else a free one) in a thread; yield its URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, driven by Playwright (skipped when absent, failed under CI)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent: install Debian's chromium (`apt-get install -y chromium`)"
        if IN_CI:
            pytest.fail(f"{reason}; it is required under CI=true")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


def open_page(browser: Any, width: int = 1280, **options: Any) -> tuple[Any, Any, list[str]]:
    """Open a browser context ``width`` pixels wide and a page in it; return both and the
    list its console errors are collected into (a test asserts it stays empty)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


def sign_in(page: Any, url: str, person: Person, wanted: str = "/overview") -> None:
    """Sign ``person`` in through the sign-in pages (TOTP too), starting at ``wanted``."""
    page.goto(f"{url}{wanted}")
    assert "/signin" in page.url
    page.fill("#username", person.username)
    page.fill("#password", PASSWORD)
    page.click("#signin-form button[type=submit]")
    if person.totp_secret:
        page.wait_for_selector("#totp-form")
        page.fill("#code", auth.totp_now(person.totp_secret))
        page.click("#totp-form button[type=submit]")
    page.wait_for_selector("#whoami")
