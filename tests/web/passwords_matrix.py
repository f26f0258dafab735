"""The tenancy matrix's rows for the breached-password routes (API and console)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.matrix_rows import Build, get

from bastion import passwords

PW = "/api/v1/passwords"
PW_READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi"})
# national administrators, and leads at their own
PW_WRITERS = frozenset({"admin", "lead", "multi"})


def password_call(verb: str, path: str, body: dict[str, Any] | None = None) -> Build:
    """Call a passwords route at an organisation, over a tiny breached-password store."""

    def build(w: Any, org: str) -> tuple[str, str, dict[str, Any]]:
        folder = w.app.state.settings.passwords_dir
        if not (folder / "sha1").exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "breached.txt").write_text("password\n123456\n", encoding="utf-8")
            passwords.Builder(folder, [passwords.source(folder / "breached.txt")]).run()
        kwargs: dict[str, Any] = (
            {"params": {"org": org}} if body is None else {"json": {**body, "org": org}}
        )
        return verb, path, kwargs

    return build


def passwords_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every passwords route: ``make`` is the matrix's ``Case``."""
    return {
        ("POST", f"{PW}/check"): make(
            password_call("POST", f"{PW}/check", {"password": "a long new pass phrase"}),
            PW_READERS,
            by_org=True,
        ),
        ("POST", f"{PW}/check/range"): make(
            password_call("POST", f"{PW}/check/range", {"prefix": "5BAA6"}), PW_READERS, by_org=True
        ),
        ("GET", f"{PW}/policy"): make(
            password_call("GET", f"{PW}/policy"), PW_READERS, by_org=True
        ),
        ("PUT", f"{PW}/policy"): make(
            lambda w, org: (
                "PUT",
                f"{PW}/policy",
                {"params": {"org": org}, "json": {"scoring": True}},
            ),
            PW_WRITERS,
            by_org=True,
        ),
        ("GET", f"{PW}/stats"): make(get(f"{PW}/stats"), PW_READERS),
        ("GET", "/passwords"): make(password_call("GET", "/passwords"), PW_READERS, by_org=True),
        ("POST", "/passwords/policy"): make(
            lambda _w, org: (
                "POST",
                "/passwords/policy",
                {"data": {"org": org, "min_length": "16", "banned_terms": "theatre\nward"}},
            ),
            PW_WRITERS,
            ok=303,
            by_org=True,
        ),
    }
