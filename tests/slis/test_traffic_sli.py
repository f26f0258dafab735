"""SLIs from real users' traffic: web and proxy logs ingested by the boundary pipeline into the
Parquet archive, then counted per service host with DuckDB, within the caller's scope."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import Run

from bastion.audit import Actor
from bastion.boundary.pipeline import Pipeline
from bastion.core.errors import InputError, NotFoundError
from bastion.core.scope import Scope
from bastion.core.settings import Settings
from bastion.orgs import Organisation, OrgType, save_organisation
from bastion.slis import host_traffic, service_sli
from bastion.store import Store
from bastion.uptime import Slo, add_monitor, add_slo, monitor

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ACTOR = Actor.cli("test")
EVERYTHING = Scope.everything()


def _nginx(at: datetime, host: str, status: int) -> str:
    # nginx's "$host $remote_addr - $remote_user [$time_local] ..." virtual-host format
    stamp = at.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{host} 10.1.0.5 - - [{stamp}] "GET /health HTTP/1.1" {status} 12 "-" "probe/1"\n'


def _squid(at: datetime, host: str, status: int, elapsed_ms: int = 40) -> str:
    return (f"{at.timestamp():.3f} {elapsed_ms:>6} 10.9.0.7 TCP_MISS/{status} 900 GET "
            f"https://{host}/login - HIER_DIRECT/198.18.0.1 text/html\n")  # fmt: skip


@pytest.fixture
def settings(sqlite_store: Store, tmp_path: Path) -> Settings:
    """RAL's own web servers' log and RJ1's proxy log, ingested into the archive."""
    with sqlite_store.session() as session:
        for code in ("RAL", "RJ1"):
            save_organisation(session, Organisation(code, f"Org {code}", OrgType.TRUST),
                              actor=ACTOR)  # fmt: skip
        portal = monitor("portal", "http", "https://Portal.nhs.test/health", org="RAL",
                         service="Portal")  # fmt: skip
        mail = monitor("mail", "tls", "mail.nhs.test:465", org="RAL", service="Portal")
        for item in (portal, mail):
            add_monitor(session, item, actor=ACTOR, scope=EVERYTHING)
        add_slo(session, Slo("RAL", "Portal", 0.999), actor=ACTOR, scope=EVERYTHING)
    settings = Settings(data_dir=tmp_path / "data")
    web, proxy = tmp_path / "access.log", tmp_path / "proxy.log"
    day1, day2 = NOW - timedelta(days=2), NOW - timedelta(days=1)
    lines = [_nginx(day1 + timedelta(seconds=i), "portal.nhs.test", 503 if i < 3 else 200)
             for i in range(100)]  # fmt: skip
    lines += [_nginx(day2 + timedelta(seconds=i), "portal.nhs.test", 404) for i in range(20)]
    lines += [_nginx(day2, "intranet.nhs.test", 500) for _ in range(7)]  # another host
    lines += [_nginx(NOW - timedelta(days=45), "portal.nhs.test", 500)]  # before the period
    web.write_text("".join(lines))
    # Squid logs how long each request took: 10, 20, … 500 ms.
    proxy.write_text("".join(_squid(day2 + timedelta(minutes=i), "portal.nhs.test",
                                    502 if i < 2 else 200, 10 * (i + 1)) for i in range(50)))  # fmt: skip
    for path, fmt, org in ((web, "nginx", "RAL"), (proxy, "squid", "RJ1")):
        [stats] = Pipeline.open(sqlite_store, settings, default_org=org).ingest_paths([path], fmt)
        assert stats.rejects == 0
    return settings


def test_a_national_role_counts_every_members_traffic_to_the_service(
    sqlite_store: Store, settings: Settings
) -> None:
    with sqlite_store.session() as session:
        sli = service_sli(session, settings.archive_dir, "Portal", EVERYTHING, NOW)
    assert (sli.org, sli.requests, sli.errors) == ("RAL", 170, 5)
    assert sli.success_ratio == pytest.approx(1 - 5 / 170)
    assert sli.target == 0.999
    assert sli.budget_spent == pytest.approx(5 / (170 * 0.001), rel=1e-6)
    # A 404 is the client's mistake, not the service failing; hosts are its monitors' hosts.
    assert [(h.host, h.requests, h.errors) for h in sli.hosts] == [
        ("mail.nhs.test", 0, 0), ("portal.nhs.test", 170, 5),
    ]  # fmt: skip
    assert sli.hosts[0].success_ratio is None
    # Latency from the proxy's 50 timed requests (nginx's combined format times none).
    portal = sli.hosts[1]
    assert portal.timed == 50
    assert (portal.p50_ms, portal.p95_ms, portal.p99_ms) == pytest.approx((255.0, 475.5, 495.1))
    assert sli.hosts[0].p50_ms is None
    d1, d2 = ((NOW - timedelta(days=n)).date() for n in (2, 1))
    assert sli.days == ((d1, 100, 3), (d2, 70, 2))


def test_a_member_counts_only_its_own_organisations_traffic(
    sqlite_store: Store, settings: Settings
) -> None:
    with sqlite_store.session() as session:
        own = service_sli(session, settings.archive_dir, "Portal", Scope.of(["RAL"]), NOW)
        assert (own.requests, own.errors) == (120, 3)  # RJ1's proxy log is not RAL's to read
        assert (own.hosts[1].timed, own.hosts[1].p99_ms) == (0, None)
        with pytest.raises(NotFoundError):
            service_sli(session, settings.archive_dir, "Portal", Scope.of(["RJ1"]), NOW)
        with pytest.raises(InputError, match="1-400 days"):
            service_sli(session, settings.archive_dir, "Portal", EVERYTHING, NOW, days=0)
        longer = service_sli(session, settings.archive_dir, "Portal", EVERYTHING, NOW, days=60)
    assert (longer.requests, longer.errors) == (171, 6)


def test_host_traffic_reads_nothing_for_no_hosts_or_an_empty_scope(settings: Settings) -> None:
    start = NOW - timedelta(days=3)
    for hosts, scope in (([], EVERYTHING), (["portal.nhs.test"], Scope.of([]))):
        days, latency = host_traffic(settings.archive_dir, hosts, start, NOW, scope)
        assert days.is_empty()
        assert latency.is_empty()
    days, latency = host_traffic(
        settings.archive_dir, ["INTRANET.nhs.test."], start, NOW, EVERYTHING
    )
    assert days.rows() == [("intranet.nhs.test", date(2026, 11, 30), 7, 7)]
    assert latency.is_empty()  # its server's log times nothing


def test_the_cli_prints_a_services_traffic_sli_as_json(bastion: Run, tmp_path: Path) -> None:
    assert bastion("init").exit_code == 0
    assert bastion("orgs", "add", "RAL", "Trust", "-n", "10.1.0.0/24").exit_code == 0
    added = bastion("uptime", "monitors", "add", "portal", "--type", "http", "--target",
                    "https://portal.nhs.test/", "--org", "RAL", "--service", "Portal")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    log = tmp_path / "access.log"
    at = datetime.now(UTC) - timedelta(hours=2)
    log.write_text("".join(_nginx(at, "portal.nhs.test", 500 if i == 0 else 200) for i in range(8)))
    assert bastion("boundary", "ingest", str(log), "--format", "nginx").exit_code == 0
    shown = json.loads(bastion("uptime", "traffic", "Portal", "--days", "1", "--json").stdout)
    assert (shown["org"], shown["requests"], shown["errors"]) == ("RAL", 8, 1)
    assert shown["success_ratio"] == 0.875
    assert shown["hosts"] == [
        {"host": "portal.nhs.test", "requests": 8, "errors": 1, "success_ratio": 0.875,
         "timed": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None}
    ]  # fmt: skip
    text = bastion("uptime", "traffic", "Portal", "--days", "1").stdout
    assert "RAL Portal: 87.5000% of 8 requests succeeded (1 answered 5xx)" in text
    missing = bastion("uptime", "traffic", "Nothing")
    assert missing.exit_code != 0
    assert "no service 'Nothing'" in missing.stderr
    assert json.loads(bastion("uptime", "certificates", "--json").stdout) == []
