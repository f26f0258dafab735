from __future__ import annotations

from pathlib import Path

import pytest

from bastion.audit import Actor
from bastion.core import InputError
from bastion.orgs import (
    OrgType,
    count_organisations,
    export_organisations,
    get_organisation,
    import_organisations,
    list_organisations,
)
from bastion.store import Store

BASTION_CSV = """code,name,type,parent,networks,hosts,contacts
QOP,Greater Manchester ICB,icb,,,,
R0A,Manchester University NHS FT,NHS Trust,QOP,10.1.0.0/16 2001:db8:1::/48,www.mft.nhs.uk,Ada Lovelace <ada@mft.nhs.uk> (security lead); Bob <bob@mft.nhs.uk>
P84001,Ancoats Surgery,gp practice,QOP,10.1.4.0/24,,
"""


def test_real_dspt_trusts_snapshot_gives_211_trusts_under_their_icbs(
    store: Store, shared_data: Path
) -> None:
    path = shared_data / "assurance" / "dspt-trusts-snapshot-2023-11-16.csv"
    with store.session() as s:
        report = import_organisations(s, path, actor=Actor.cli("test"))
    assert report.format == "dspt-trusts"
    assert report.by_type["trust"] == 211
    with store.session() as s:
        trusts, total = list_organisations(s, type=OrgType.TRUST)
        assert total == 211
        assert all(t.parent is not None for t in trusts)
        icbs = {o.code for o in list_organisations(s, type=OrgType.ICB)[0]}
        assert {t.parent for t in trusts} <= icbs
        mft = get_organisation(s, "R0A")
        assert mft.name == "MANCHESTER UNIVERSITY NHS FOUNDATION TRUST"
        assert mft.parent == "QOP"
        assert get_organisation(s, "QOP").parent == "Y62"
        # the trust's own code is stripped from names like "... TRUST (R0B)"
        assert (
            get_organisation(s, "R0B").name == "SOUTH TYNESIDE AND SUNDERLAND NHS FOUNDATION TRUST"
        )


def test_reimporting_the_snapshot_updates_and_never_doubles(
    store: Store, shared_data: Path
) -> None:
    path = shared_data / "assurance" / "dspt-trusts-snapshot-2023-11-16.csv"
    with store.session() as s:
        first = import_organisations(s, path, actor=Actor.cli("test"))
    with store.session() as s:
        second = import_organisations(s, path, actor=Actor.cli("test"))
        assert count_organisations(s) == first.created
    assert second.created == 0
    assert second.updated == first.created


def test_real_dspt_icb_snapshot(store: Store, shared_data: Path) -> None:
    with store.session() as s:
        report = import_organisations(
            s,
            shared_data / "assurance" / "dspt-icb-snapshot-2023-11-16.csv",
            actor=Actor.cli("test"),
        )
    assert report.format == "dspt-icb"
    assert report.by_type == {"icb": 42}


def test_bastion_csv_round_trips_through_export(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "orgs.csv"
    source.write_text(BASTION_CSV)
    with store.session() as s:
        report = import_organisations(s, source, actor=Actor.cli("test"))
        assert (report.format, report.created) == ("bastion", 3)
        exported = export_organisations(list_organisations(s)[0])
        r0a = get_organisation(s, "R0A")
    assert r0a.type is OrgType.TRUST
    assert len(r0a.contacts) == 2
    assert r0a.contacts[1].role == "security lead"
    again = tmp_path / "again.csv"
    again.write_text(exported)
    with store.session() as s:
        assert import_organisations(s, again, actor=Actor.cli("test")).updated == 3
        assert get_organisation(s, "R0A") == r0a


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "X1,Bad net,trust,,10.0.0.0/33,,",
            r"orgs\.csv, line 3, field 'networks': invalid CIDR '10\.0\.0\.0/33'",
        ),
        ("X1,Bad type,hospital,,,,", r"line 3, field 'type': unknown organisation type 'hospital'"),
        (
            "R0A,Twice,trust,,,,",
            r"line 3, field 'code': duplicate organisation code R0A \(first on line 2\)",
        ),
        ("X1,,trust,,,,", r"line 3, field 'name': name is empty"),
        ("X1,Orphan,trust,ZZZ,,,", r"line 3, field 'parent': parent ZZZ is neither in the file"),
        ("X1,Bad mail,trust,,,,Ann <not-an-email>", r"line 3, field 'contacts': invalid e-mail"),
        ("x-1,Bad code,trust,,,,", r"line 3, field 'code': invalid organisation code"),
    ],
)
def test_a_bad_row_names_file_line_field_and_writes_nothing(
    store: Store, tmp_path: Path, row: str, message: str
) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text(f"code,name,type,parent,networks,hosts,contacts\nR0A,Good,trust,,,,\n{row}\n")
    with pytest.raises(InputError, match=message), store.session() as s:
        import_organisations(s, path, actor=Actor.cli("test"))
    with store.session() as s:
        assert count_organisations(s) == 0


def test_unrecognised_header_is_a_clear_error(tmp_path: Path, sqlite_store: Store) -> None:
    path = tmp_path / "other.csv"
    path.write_text("foo,bar\n1,2\n")
    with (
        pytest.raises(InputError, match=r"other\.csv, line 1: unrecognised organisations CSV"),
        sqlite_store.session() as s,
    ):
        import_organisations(s, path, actor=Actor.cli("test"))
