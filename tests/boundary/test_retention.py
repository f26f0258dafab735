"""Retention of the archive: whole days past the limit go, audited; a legal hold keeps an
organisation's days; `bastion archive holds` sets, lists and clears holds."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import Run

from bastion.audit import Actor, list_events
from bastion.boundary.archive import write_batch
from bastion.boundary.compaction import compact
from bastion.boundary.retention import add_hold, apply_retention, clear_hold, list_holds
from bastion.core.errors import InputError, NotFoundError
from bastion.orgs import Organisation, OrgType, save_organisation
from bastion.store import Store

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
ACTOR = Actor.cli("records-officer")


def _events(day: date) -> pl.DataFrame:
    at = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    return pl.DataFrame({"@timestamp": [at, at, at], "organization.id": ["R0A", "R0B", "R0B"]})


def _archive(store: Store, root: Path) -> None:
    """Two trusts' events on 1 and 2 March (compacted per organisation), and on 31 May."""
    with store.session() as session:
        for code in ("R0A", "R0B"):
            save_organisation(session, Organisation(code, "Trust", OrgType.TRUST), actor=ACTOR)
    write_batch(_events(date(2024, 3, 1)), root, "b-1")
    write_batch(_events(date(2024, 3, 2)), root, "b-2")
    compact(root)
    write_batch(_events(date(2024, 5, 31)), root, "b-3")


def _orgs(root: Path, day: str) -> list[str]:
    return sorted(p.name for p in (root / f"day={day}").glob("org=*"))


def test_days_past_the_limit_go_audited_and_a_legal_hold_keeps_its_organisations(
    sqlite_store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    _archive(sqlite_store, root)
    with sqlite_store.session() as session:
        hold = add_hold(
            session, "r0a", reason="case 12: legal request", actor=ACTOR,
            first_day=date(2024, 3, 1), last_day=date(2024, 3, 1),
        )  # fmt: skip

    report = apply_retention(sqlite_store, root, keep_days=30, actor=ACTOR, now=NOW)

    assert report.days_removed == ["2024-03-02"]
    assert report.days_partly_kept == ["2024-03-01"]
    assert _orgs(root, "2024-03-01") == ["org=R0A"]  # held; R0B's events of that day went
    assert not (root / "day=2024-03-02").exists()
    assert _orgs(root, "2024-05-31") == ["org=_staging"]  # within the limit
    with sqlite_store.session() as session:
        trail, _ = list_events(session, action="archive.retention")
        assert sorted(e.target for e in trail) == [
            "archive-day:2024-03-01",
            "archive-day:2024-03-02",
        ]
        kept = next(e for e in trail if e.target.endswith("03-01"))
        assert kept.before is not None
        assert kept.before["kept_for_holds"] == ["R0A"]
        clear_hold(session, hold.id, ACTOR)
        assert list_holds(session) == []
        assert [e.action for e in list_events(session, action="archive.hold")[0]] == [
            "archive.hold_clear",
            "archive.hold_add",
        ]

    again = apply_retention(sqlite_store, root, keep_days=30, actor=ACTOR, now=NOW)
    assert again.days_removed == ["2024-03-01"]
    assert not (root / "day=2024-03-01").exists()


def test_a_hold_needs_a_known_organisation_a_reason_and_a_range_in_order(
    sqlite_store: Store, tmp_path: Path
) -> None:
    _archive(sqlite_store, tmp_path / "archive")
    with sqlite_store.session() as session:
        with pytest.raises(NotFoundError):
            add_hold(session, "NOPE", reason="x", actor=ACTOR)
        with pytest.raises(InputError, match="reason"):
            add_hold(session, "R0A", reason=" ", actor=ACTOR)
        with pytest.raises(InputError, match="before it starts"):
            add_hold(
                session, "R0A", reason="x", actor=ACTOR,
                first_day=date(2024, 3, 2), last_day=date(2024, 3, 1),
            )  # fmt: skip
        with pytest.raises(NotFoundError):
            clear_hold(session, 99, ACTOR)


def test_holds_cli_adds_lists_and_clears(bastion: Run, tmp_path: Path) -> None:
    assert bastion("init").exit_code == 0
    assert bastion("orgs", "add", "R0A", "Alpha Trust", "--type", "trust").exit_code == 0
    added = bastion(
        "archive", "holds", "add", "R0A", "--reason", "case 12", "--from", "2024-03-01", "--json"
    )
    assert added.exit_code == 0, added.output
    listed = json.loads(bastion("archive", "holds", "list", "--json").stdout)
    assert [(h["org_code"], h["first_day"], h["last_day"]) for h in listed] == [
        ("R0A", "2024-03-01", None)
    ]
    bad = bastion("archive", "holds", "add", "R0A", "--reason", "x", "--to", "March")
    assert bad.exit_code == 1
    assert "not a day" in bad.stderr
    assert bastion("archive", "holds", "clear", str(listed[0]["id"]), "--json").exit_code == 0
    assert json.loads(bastion("archive", "holds", "list", "--json").stdout) == []
    unset = bastion("archive", "retain")
    assert unset.exit_code != 0
    assert "archive_retention_days is not set" in unset.stderr
