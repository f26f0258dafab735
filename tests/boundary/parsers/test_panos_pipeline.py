"""PAN-OS through the pipeline (issue 23): files and stdin with every record type, the
source's time zone, and the new fields in the archive, hunts and Sigma rules."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.boundary.parsers.test_panos import TRAFFIC_FIELDS, record
from tests.boundary.parsers.test_panos_fidelity import AUTH_FAIL, UNCLAIMED
from typer.testing import Result

from bastion.boundary.hunting import hunt
from bastion.boundary.pipeline import Pipeline
from bastion.boundary.sources import Chunk
from bastion.core.settings import Settings
from bastion.store import Store

Run = Callable[..., Result]

NAT_USER = record(
    {
        **TRAFFIC_FIELDS,
        6: "2025/11/25 12:00:00",  # no offset: the source's zone
        9: "203.0.113.10",  # source NAT
        26: "40000",
        12: "NHS\\alice",
    }
)
RULE = """title: Log4Shell string in a user name
id: 5b6a9b8e-6f4e-4bfb-9a3b-23a0c0de0023
status: test
level: high
logsource:
  product: panos
  service: system
detection:
  selection:
    user.name|contains: '${jndi:'
  condition: selection
"""


def _setup(bastion: Run, tmp_path: Path) -> Path:
    assert bastion("init").exit_code == 0
    assert bastion("orgs", "add", "R0A", "Trust", "-n", "10.20.30.0/24").exit_code == 0
    rules = tmp_path / "data" / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    (rules / "jndi-user.yml").write_text(RULE)
    log = tmp_path / "panos.log"
    # Every record type a firewall sends to one syslog target; an unclaimed one first.
    log.write_text("\n".join([UNCLAIMED["SYSTEM"], NAT_USER, *UNCLAIMED.values(), AUTH_FAIL]))
    return log


def _hunt(bastion: Run, sql: str) -> list[dict[str, object]]:
    result = bastion("hunt", sql, "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_a_mixed_file_is_read_with_the_other_types_rejected_by_name(
    bastion: Run, tmp_path: Path
) -> None:
    log = _setup(bastion, tmp_path)
    result = bastion(
        "boundary", "ingest", str(log), "-f", "panos", "--org", "R0A", "--timezone",
        "Europe/London", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [stats] = json.loads(result.stdout)
    assert (stats["lines"], stats["events"], stats["rejects"]) == (8, 2, 6)
    assert stats["reject_reasons"] == {
        "panos: PAN-OS SYSTEM records are not read, except authentications "
        "(event id general; read: auth-fail, auth-success)": 2,
        **{
            f"panos: PAN-OS {kind} records are not read "
            "(read: TRAFFIC, THREAT, SYSTEM authentication)": 1
            for kind in ("CONFIG", "HIP-MATCH", "GLOBALPROTECT", "USERID")
        },
    }
    # The new fields reach the archive, and hunts find them.
    rows = _hunt(
        bastion,
        'SELECT "source.nat.ip", "source.nat.port", "user.name", "user.domain", '
        "strftime(\"@timestamp\", '%Y-%m-%d %H:%M') AS t FROM events "
        "WHERE \"source.nat.ip\" = '203.0.113.10' AND \"user.name\" = 'alice'",
    )
    # 12:00 in London in November is 12:00 UTC; the time zone option reached the parser.
    assert rows == [
        {
            "source.nat.ip": "203.0.113.10",
            "source.nat.port": 40000,
            "user.name": "alice",
            "user.domain": "NHS",
            "t": "2025-11-25 12:00",
        }
    ]
    [auth] = _hunt(
        bastion,
        'SELECT "event.category", "event.outcome", "source.ip" FROM events '
        "WHERE \"user.name\" LIKE '%jndi%'",
    )
    assert auth == {
        "event.category": "authentication",
        "event.outcome": "failure",
        "source.ip": "203.0.113.66",
    }
    # A Sigma rule on user.name matches the failed login.
    alerts = json.loads(bastion("alerts", "list", "--json").stdout)
    assert [a["title"] for a in alerts] == ["Log4Shell string in a user name"]


def test_stdin_with_an_unclaimed_record_first_is_read(bastion: Run, tmp_path: Path) -> None:
    log = _setup(bastion, tmp_path)
    result = bastion(
        "boundary", "ingest", "-", "-f", "panos", "--timezone", "America/New_York", "--json",
        input=log.read_text(),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [stats] = json.loads(result.stdout)
    assert (stats["events"], stats["rejects"]) == (2, 6)
    [row] = _hunt(
        bastion,
        "SELECT strftime(\"@timestamp\", '%H:%M') AS t FROM events WHERE \"user.name\" = 'alice'",
    )
    assert row == {"t": "17:00"}  # 12:00 in New York (EST) is 17:00 UTC


def test_the_time_zone_setting_is_the_default_and_a_bad_name_is_one_line(
    bastion: Run, tmp_path: Path
) -> None:
    log = _setup(bastion, tmp_path)
    bad = bastion("boundary", "ingest", str(log), "-f", "panos", "--timezone", "Mars/Olympus")
    assert bad.exit_code == 1
    assert "'Mars/Olympus' is not an IANA time zone name" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    (tmp_path / "bastion.toml").write_text('[bastion]\nboundary_timezone = "Asia/Tokyo"\n')
    assert bastion("boundary", "ingest", str(log), "-f", "panos").exit_code == 0
    [row] = _hunt(
        bastion,
        "SELECT strftime(\"@timestamp\", '%H:%M') AS t FROM events WHERE \"user.name\" = 'alice'",
    )
    assert row == {"t": "03:00"}  # 12:00 in Tokyo is 03:00 UTC


def test_follow_and_streams_read_times_in_the_pipelines_zone(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", boundary_timezone="Asia/Tokyo")
    default = Pipeline.open(sqlite_store, settings)  # the setting: Tokyo
    assert default.timezone == "Asia/Tokyo"
    given = Pipeline.open(sqlite_store, settings, timezone="America/New_York")
    # A stream (stdin, `boundary listen`) in New York: 12:00 EST is 17:00 UTC.
    chunk = Chunk(f"{NAT_USER}\n".encode(), 0)
    given.ingest_chunks([chunk], source="stream", key="stream-ny", fmt="panos")
    # A followed file, with the setting's zone: 12:00 in Tokyo is 03:00 UTC.
    log = tmp_path / "fw.log"
    log.write_text(NAT_USER.replace("2025/11/25 12:00:00", "2025/11/26 12:00:00") + "\n")
    stop = threading.Event()
    thread = threading.Thread(
        target=lambda: default.follow_file(log, "panos", poll=0.02, should_stop=stop.is_set)
    )
    thread.start()
    sql = "SELECT strftime(\"@timestamp\", '%d %H:%M') AS t FROM events ORDER BY t"
    deadline = time.monotonic() + 30
    while hunt(settings.archive_dir, sql).height < 2:  # two events
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    stop.set()
    thread.join()
    assert hunt(settings.archive_dir, sql).get_column("t").to_list() == ["25 17:00", "26 03:00"]
