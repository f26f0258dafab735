"""Only what the federation registry says a member owns is ever scanned."""

from __future__ import annotations

import pytest

from bastion import orgs, scan
from bastion.audit import Actor
from bastion.store import Store

ACTOR = Actor.cli("tester")


@pytest.fixture
def registry(sqlite_store: Store) -> Store:
    with sqlite_store.session() as session:
        orgs.save_organisation(
            session,
            orgs.Organisation(
                "A81001",
                "Riverside Surgery",
                orgs.OrgType.GP_PRACTICE,
                networks=("198.51.100.0/30",),
                hosts=(orgs.Host("www.riverside.example", "203.0.113.10"), orgs.Host("127.0.0.9")),
            ),
            actor=ACTOR,
        )
    return sqlite_store


def test_an_unregistered_address_is_refused_with_the_reason(registry: Store) -> None:
    with registry.session() as session, pytest.raises(scan.TargetRefused) as refused:
        scan.resolve_target(session, "192.0.2.77", allow_private=True)
    assert "not a registered host, address or opted-in network" in str(refused.value)


def test_an_unregistered_name_is_refused(registry: Store) -> None:
    with registry.session() as session, pytest.raises(scan.TargetRefused):
        scan.resolve_target(session, "evil.example", allow_private=True)


def test_a_registered_name_and_its_address_are_the_same_target(registry: Store) -> None:
    with registry.session() as session:
        by_name = scan.resolve_target(session, "www.riverside.example", allow_private=False)
        by_address = scan.resolve_target(session, "203.0.113.10", allow_private=False)
    assert (
        by_name
        == by_address
        == [scan.Target("A81001", "www.riverside.example", "203.0.113.10", "www.riverside.example")]
    )


def test_a_network_is_scanned_only_once_its_organisation_opts_in(registry: Store) -> None:
    with registry.session() as session, pytest.raises(scan.TargetRefused, match="opted in"):
        scan.resolve_target(session, "198.51.100.1", allow_private=False)
    with registry.session() as session:
        scan.set_policy(session, scan.ScanPolicy("A81001", scan_ranges=True), actor=ACTOR)
    with registry.session() as session:
        assert scan.resolve_target(session, "198.51.100.1", allow_private=False)[0].org == "A81001"
        targets, _ = scan.organisation_targets(session, ["A81001"], allow_private=False)
    assert {t.address for t in targets} >= {"198.51.100.1", "198.51.100.2", "203.0.113.10"}


def test_loopback_needs_scan_allow_private(registry: Store) -> None:
    with (
        registry.session() as session,
        pytest.raises(scan.TargetRefused, match="scan_allow_private"),
    ):
        scan.resolve_target(session, "127.0.0.9", allow_private=False)
    with registry.session() as session:
        assert (
            scan.resolve_target(session, "127.0.0.9", allow_private=True)[0].address == "127.0.0.9"
        )
        targets, refused = scan.organisation_targets(session, allow_private=False)
    assert [t.host for t in targets] == ["www.riverside.example"]
    assert "127.0.0.9" in refused[0]


def test_an_organisation_code_names_all_its_hosts(registry: Store) -> None:
    with registry.session() as session:
        targets = scan.resolve_target(session, "a81001", allow_private=True)
    assert sorted(t.host for t in targets) == ["127.0.0.9", "www.riverside.example"]
