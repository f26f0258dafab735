"""Certificates found expiring are told once per organisation, certificate and threshold:
by e-mail (a local aiosmtpd server) and webhook, recorded and audited."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest
from tests.advisories.smtp import Mailbox
from tests.advisories.smtp import smtp_server as smtp_server  # a fixture
from tests.cases.test_notify import Hook
from tests.cases.test_notify import webhook as webhook  # a fixture
from tests.uptime.servers import tls_server

from bastion.audit import Actor, list_events
from bastion.core.delivery import SmtpConfig
from bastion.core.errors import ConfigError
from bastion.core.scope import Scope
from bastion.core.settings import load_settings
from bastion.store import Store
from bastion.uptime import Centre, History, Notifier, add_monitor, get_monitor, monitor, probe
from bastion.uptime.certificates import list_notices
from bastion.uptime.models import UptimeNotificationRow

EVERYTHING = Scope.everything()


def _centre(store: Store, root: Path, smtp: SmtpConfig, hook: Hook) -> Centre:
    notifier = Notifier(smtp=smtp, webhook_url=hook.url, attempts=2, backoff=0)
    return Centre(store, History(root), notifier, cert_warn_days=(30, 7))


def _add(store: Store, target: str, org: str = "RAL", name: str = "mail-cert") -> int:
    with store.session() as session:
        item = monitor(name, "tls", target, org=org, service="Mail", interval_s=60, timeout_s=5)
        return add_monitor(session, item, actor=Actor.cli("test"), scope=EVERYTHING).id


def test_a_certificate_probed_five_days_from_expiry_is_told_once(
    store: Store, tmp_path: Path, smtp_server: tuple[SmtpConfig, Mailbox], webhook: Hook
) -> None:
    smtp, mailbox = smtp_server
    centre = _centre(store, tmp_path / "uptime", smtp, webhook)
    with tls_server(tmp_path, days=5) as port:
        monitor_id = _add(store, f"127.0.0.1:{port}")
        with store.session() as session:
            item = get_monitor(session, monitor_id, EVERYTHING)

        async def twice() -> list[dict[str, object]]:
            async with httpx.AsyncClient() as client:
                return [(await probe(item, client, agent=a)).row() for a in ("london", "leeds")]

        rows = asyncio.run(twice())
    centre.ingest(pl.DataFrame(rows), "first", "london")
    first = centre.cycle(datetime.now(UTC))
    [told] = first.certificates
    assert (told.org, told.threshold_days, told.monitor_id) == ("RAL", 7, monitor_id)
    assert 4.9 < told.days_left < 5.1
    assert told.sha256 == rows[0]["cert_sha256"]
    # The next cycle, with the same results and more, tells nobody again.
    centre.ingest(pl.DataFrame(rows), "again", "leeds")
    assert centre.cycle(datetime.now(UTC)).certificates == []
    [mail] = [m for m in mailbox.to("duty@ral.nhs.test") if "CERTIFICATE" in m["Subject"]]
    assert mail["Subject"].startswith("[CERTIFICATE] Mail: mail-cert's certificate expires in 5.0")
    [post] = [p for p in webhook.posts if p["event"] == "certificate"]
    assert (post["event"], post["threshold_days"], post["sha256"]) == (
        "certificate", 7, told.sha256,
    )  # fmt: skip
    with store.session() as session:
        # Both thresholds are spent: the certificate never reaches 30 days left again.
        assert sorted(n.threshold_days for n in list_notices(session, EVERYTHING)) == [7, 30]
        assert list_notices(session, Scope.of(["RJ1"])) == []
        events, _ = list_events(session, action="uptime.certificate.expiring")
        assert [(e.actor, e.target, e.org) for e in events] == [
            ("scheduler:uptime", f"monitor:{monitor_id}", "RAL")
        ]
        sent = session.query(UptimeNotificationRow).filter_by(kind="certificate").all()
        assert sorted((r.channel, r.status) for r in sent) == [
            ("email", "sent"),
            ("webhook", "sent"),
        ]


def _results(monitor_id: int, sha256: str, days: float, at: datetime) -> pl.DataFrame:
    return pl.DataFrame({
        "monitor": [monitor_id], "agent": ["london"], "at": [at], "ok": [True],
        "latency_ms": [3.0], "days_left": [days], "cert_sha256": [sha256],
    })  # fmt: skip


def test_each_threshold_is_told_as_it_is_crossed_and_a_new_certificate_starts_again(
    store: Store, tmp_path: Path, smtp_server: tuple[SmtpConfig, Mailbox], webhook: Hook
) -> None:
    smtp, _ = smtp_server
    centre = _centre(store, tmp_path / "uptime", smtp, webhook)
    ral, rj1 = _add(store, "mail.nhs.test:465"), _add(store, "mail.nhs.test:465", org="RJ1")
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    old, new = "a" * 64, "b" * 64

    def told(days: float, *, sha256: str = old, monitor_id: int = ral) -> list[tuple[str, int]]:
        nonlocal now
        now += timedelta(minutes=5)
        centre.ingest(_results(monitor_id, sha256, days, now), f"b{now:%H%M}", "london")
        return [(n.org, n.threshold_days) for n in centre.cycle(now).certificates]

    assert told(45.0) == []  # outside every threshold
    assert told(29.5) == [("RAL", 30)]
    assert told(20.0) == []
    assert told(6.5) == [("RAL", 7)]
    assert told(6.4) == []
    # Another organisation probing the same certificate is told for itself.
    assert told(6.3, monitor_id=rj1) == [("RJ1", 7)]
    # A renewed certificate (a new fingerprint) is told afresh when it nears its end.
    assert told(89.0, sha256=new) == []
    assert told(2.0, sha256=new) == [("RAL", 7)]
    last = [p["subject"] for p in webhook.posts if p["event"] == "certificate"][-1]
    assert last.endswith("certificate expires in 2.0 days")


@pytest.mark.parametrize("value", ["30,7", "7, 30,30"])
def test_the_warning_thresholds_come_from_the_environment(tmp_path: Path, value: str) -> None:
    none = tmp_path / "none.toml"
    found = load_settings(
        environ={"BASTION_UPTIME_CERT_WARN_DAYS": value, "BASTION_CONFIG": str(none)}
    )
    assert found.uptime_cert_warn_days == [7, 30]
    with pytest.raises(ConfigError, match="uptime_cert_warn_days are 1-3650 days each"):
        load_settings(environ={"BASTION_UPTIME_CERT_WARN_DAYS": "0", "BASTION_CONFIG": str(none)})
