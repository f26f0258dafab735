"""The tenancy matrix's rows for the password audit reports (API and console).

``password_audit_routes`` is handed the matrix's ``Case`` type, so this module need not
import the matrix (which imports it). Each organisation gets one audit report, made
when first asked for by auditing a two-account dump against a tiny breached store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bastion import passwords
from bastion.audit import Actor

READERS = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi"})
API = "/api/v1/passwords/audits"


def audit_of(w: Any, org: str) -> int:
    """Return ``org``'s audit report, made once (and the breached store, if none yet)."""
    cache: dict[str, int] = w.__dict__.setdefault("password_audits", {})
    if org not in cache:
        folder = w.app.state.settings.passwords_dir
        if not (folder / "ntlm").exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "breached.txt").write_text("password\n123456\n", encoding="utf-8")
            passwords.Builder(folder, [passwords.source(folder / "breached.txt")]).run()
        nt = bytes(passwords.ntlm_many(["password"])[0]).hex()
        dump = folder / f"{org}-dump.txt"
        dump.write_text(f"{org.lower()}-user:1:aa:{nt}:::\n", encoding="utf-8")
        stores = passwords.Stores(folder)
        with w.store.session() as session:
            cache[org], _ = passwords.run_audit(session, stores, Actor.cli("matrix"), org, dump)
        dump.unlink()
    return cache[org]


def password_audit_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of the audit report routes: ``make`` is the matrix's ``Case``."""

    def one(path: str) -> Callable[[Any, str], tuple[str, str, dict[str, Any]]]:
        return lambda w, org: ("GET", f"{path}/{audit_of(w, org)}", {})

    return {
        ("GET", API): make(lambda _w, _o: ("GET", API, {}), READERS),
        ("GET", f"{API}/{{audit_id}}"): make(one(API), READERS, by_org=True),
        ("GET", "/passwords/audits"): make(
            lambda _w, _o: ("GET", "/passwords/audits", {}), READERS
        ),
        ("GET", "/passwords/audits/{audit_id}"): make(
            one("/passwords/audits"), READERS, by_org=True
        ),
    }
