"""`bastion passwords`: build, update, check (from stdin), audit of an NTLM dump, stats."""

from __future__ import annotations

import json
from pathlib import Path

from Crypto.Hash import MD4
from tests.conftest import Run


def nt(password: str) -> str:
    return MD4.new(password.encode("utf-16-le")).hexdigest().upper()


def _ready(bastion: Run, tmp_path: Path) -> None:
    assert bastion("init").exit_code == 0
    added = bastion("orgs", "add", "RAL", "Royal Free London NHS Foundation Trust")
    assert added.exit_code == 0, added.output
    listing = tmp_path / "breached.txt"
    listing.write_text("banner\npassword\nSummer2024!\nletmein\n", encoding="utf-8")
    built = bastion("passwords", "build", str(listing), "--skip-lines", "1", "--json")
    assert built.exit_code == 0, built.output
    assert json.loads(built.output)["records"] == {"sha1": 3, "ntlm": 3}


def test_build_update_check_and_stats(bastion: Run, tmp_path: Path) -> None:
    _ready(bastion, tmp_path)
    more = tmp_path / "more.txt"
    more.write_text("a much longer breached passphrase\n", encoding="utf-8")
    updated = bastion("passwords", "update", str(more), "--json")
    assert json.loads(updated.output)["records"] == {"sha1": 4, "ntlm": 4}
    refused = bastion(
        "passwords", "check", "--org", "RAL", "--json", input="a much longer breached passphrase\n"
    )
    assert refused.exit_code == 1
    assert json.loads(refused.output)["reason"] == "breached"
    accepted = bastion("passwords", "check", "--org", "RAL", input="four unrelated words here\n")
    assert accepted.exit_code == 0
    assert accepted.output.startswith("accepted")
    empty = bastion("passwords", "check", "--org", "RAL", input="")
    assert empty.exit_code != 0
    stats = json.loads(bastion("passwords", "stats", "--json").output)
    assert {(s["org"], s["reason"], s["checks"]) for s in stats} == {
        ("RAL", "breached", 1),
        ("RAL", "accepted", 1),
    }


def test_audit_finds_breached_shared_and_empty_accounts_and_numbers_bad_lines(
    bastion: Run, tmp_path: Path
) -> None:
    _ready(bastion, tmp_path)
    lm = "aad3b435b51404eeaad3b435b51404ee"
    dump = tmp_path / "dump.txt"
    dump.write_text(
        "\n".join(
            [
                f"alice:1001:{lm}:{nt('Summer2024!')}:::",
                f"bob:1002:{lm}:{nt('Tr0ub4dor&3-horse-staple')}:::",
                f"carol:1003:{lm}:{nt('Tr0ub4dor&3-horse-staple')}:::",
                f"dave:1004:{lm}:{nt('')}:::",
                "eve:1005:not-a-hash-SECRETISH:::",
                f"frank:1006:{lm}:{nt('unbreached and unshared')}:::",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    csv = tmp_path / "dump.csv"
    csv.write_text(f"user,nthash\nghost,{nt('letmein').lower()}\nbroken line\n", encoding="utf-8")
    report = json.loads(bastion("passwords", "audit", "RAL", str(dump), "--json").output)
    assert report["accounts"] == 5
    assert report["breached"] == ["alice"]
    assert report["shared"] == [["bob", "carol"]]
    assert report["empty"] == ["dave"]
    assert report["bad_lines"] == [5]
    assert report["id"] == 1  # kept for the organisation's console
    text = bastion("passwords", "audit", "RAL", str(dump)).output
    assert "report 2 kept" in text
    assert "SECRETISH" not in text
    assert nt("Summer2024!") not in text
    from_csv = json.loads(bastion("passwords", "audit", "ral", str(csv), "--json").output)
    assert (from_csv["breached"], from_csv["bad_lines"]) == (["ghost"], [3])
    unknown = bastion("passwords", "audit", "ZZZ", str(csv))
    assert unknown.exit_code != 0
