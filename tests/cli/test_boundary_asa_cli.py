"""An ASA line's NAT address and user reach the archive and a hunt finds them (issue 23)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

Run = Callable[..., Result]

ASA = (
    "<166>Nov 25 2025 13:01:03 asa01 : %ASA-6-302013: Built inbound TCP connection 9 for "
    "outside:203.0.113.5/40000 (198.51.100.77/40001)(LOCAL\\alice) to dmz:10.0.0.5/443 "
    "(192.0.2.5/443)\n"
    "<165>Nov 25 2025 13:01:04 asa01 : %ASA-5-111008: User 'enable_15' executed the "
    "'write memory' command.\n"
)


def test_an_ingested_asa_nat_address_and_user_are_found_by_a_hunt(
    bastion: Run, tmp_path: Path
) -> None:
    assert bastion("init").exit_code == 0
    log = tmp_path / "asa.log"
    log.write_text(ASA)
    ingest = bastion("boundary", "ingest", str(log), "--format", "cisco-asa", "--json")
    assert ingest.exit_code == 0, ingest.output
    [stats] = json.loads(ingest.stdout)
    assert (stats["events"], stats["rejects"]) == (1, 1)
    [reject] = json.loads(bastion("boundary", "rejects", "--json").stdout)
    assert reject["reason"] == "cisco-asa: ASA message 111008 is not read"
    hunt = bastion(
        "hunt",
        'SELECT "source.ip", "source.nat.ip", "source.nat.port", "destination.nat.ip", '
        '"user.name", "user.domain" FROM events WHERE "source.nat.ip" = \'198.51.100.77\'',
        "--json",
    )
    assert hunt.exit_code == 0, hunt.output
    assert json.loads(hunt.stdout) == [
        {
            "source.ip": "203.0.113.5",
            "source.nat.ip": "198.51.100.77",
            "source.nat.port": 40001,
            "destination.nat.ip": "192.0.2.5",
            "user.name": "alice",
            "user.domain": "LOCAL",
        }
    ]
