"""`bastion init --demo` plants returns the scan contradicts: drift flags fire, alerts, console."""

from __future__ import annotations

import asyncio

import pytest
from tests.demo.conftest import BuiltDemo

from bastion import assure
from bastion.alerts import list_alerts
from bastion.auth import Role
from bastion.auth import users as auth_users
from bastion.core.scope import Scope
from bastion.core.settings import Settings
from bastion.store import Store
from bastion.web import create_app
from bastion.web.testing import FAST_HASHER, create_person, open_session, signed_in_client


async def _pages(app_: object, cookie: str, csrf: str, paths: list[str]) -> list[str]:
    async with signed_in_client(app_, cookie, csrf) as client:  # type: ignore[arg-type]
        answers = [await client.get(p) for p in paths]
    assert [a.status_code for a in answers] == [200] * len(paths)
    return [a.text for a in answers]


@pytest.mark.slow
def test_the_demo_build_flags_its_planted_contradictions(
    built_demo: BuiltDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = built_demo.data_dir
    # Another worker's scan lab may share the loopback addresses: assert what must be there.
    assert "planted 3 contradicted returns: " in built_demo.output
    store = Store.from_url(f"sqlite:///{data_dir / 'bastion.db'}")
    try:
        with store.session() as session:
            returns, _ = assure.list_returns(session, Scope.everything(), period="2024-25",
                                             state="published", limit=100_000)  # fmt: skip
            flagged = {(r.org, r.framework.partition("@")[0]): r for r in returns if r.drift}
            shown = {k: assure.view(session, assure.visible_row(session, r.id, Scope.everything()))
                     for k, r in flagged.items()}  # fmt: skip
            alerts = {
                a.key for org in ("F83LAB1", "F83LAB2") for a in list_alerts(session, org=org)[0]
            }
        # Only the planted returns drift: the demo's 41,000-return year is not contradicted.
        assert sorted(flagged) == [
            ("F83LAB1", "cyber-essentials"), ("F83LAB1", "dspt"), ("F83LAB2", "dspt")
        ]  # fmt: skip
        flags = {k: {(f["outcome"], f["statement"], f["provider"]) for f in v.drift}
                 for k, v in shown.items()}  # fmt: skip
        assert flags == {
            ("F83LAB1", "cyber-essentials"): {("firewalls", "fw.3", "scan")},
            # RDP and Redis open (9.1); an expired and a self-signed certificate (9.3).
            ("F83LAB1", "dspt"): {("9", "9.1", "scan"), ("9", "9.3", "scan")},
            # A 1,024-bit key (TLS), and .git, .env and Apache 2.4.49 served (web): 9.3.
            ("F83LAB2", "dspt"): {("9", "9.3", "scan")},
        }
        assert "RDP" in shown[("F83LAB1", "cyber-essentials")].drift[0]["summary"]
        assert {"assure-drift:cyber-essentials:firewalls", "assure-drift:dspt:9"} <= alerts
        # The console shows them: on the return and on the national dashboard.
        monkeypatch.setattr(auth_users, "HASHER", FAST_HASHER)
        cookie, csrf = open_session(store, create_person(store, "nat", Role.NATIONAL_ANALYST))
        web = create_app(store, Settings(data_dir=data_dir))
        ce = flagged[("F83LAB1", "cyber-essentials")].id
        page, board = asyncio.run(_pages(web, cookie, csrf, [f"/assure/returns/{ce}", "/assure"]))
        assert 'id="drift-1">Drift: outcome firewalls (fw.3)' in page
        assert f'href="/assure/returns/{ce}">F83LAB1 cyber-essentials' in board
    finally:
        store.dispose()
