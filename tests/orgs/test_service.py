from __future__ import annotations

import pytest

from bastion.audit import Actor
from bastion.core import ConflictError, InputError, NotFoundError
from bastion.orgs import (
    Contact,
    Host,
    Organisation,
    OrgType,
    add_network,
    all_networks,
    get_organisation,
    list_organisations,
    organisation_names_of,
    save_organisation,
    top_ancestors,
)
from bastion.store import Store


def _federation(store: Store) -> None:
    with store.session() as s:
        save_organisation(
            s, Organisation("QOP", "Greater Manchester ICB", OrgType.ICB), actor=Actor.cli("test")
        )
        save_organisation(
            s,
            Organisation(
                "R0A",
                "Manchester University NHS FT",
                OrgType.TRUST,
                parent="QOP",
                networks=("10.1.0.0/16", "2001:db8:1::/48"),
                contacts=(Contact("Ada Lovelace", "Ada@MFT.nhs.uk", "security lead"),),
                hosts=(Host("WWW.mft.nhs.uk"),),
            ),
            actor=Actor.cli("test"),
        )
        save_organisation(
            s,
            Organisation(
                "P84001",
                "Ancoats Surgery",
                OrgType.GP_PRACTICE,
                parent="QOP",
                networks=("10.1.4.0/24",),
            ),
            actor=Actor.cli("test"),
        )


def test_organisation_round_trips_with_normalised_values(store: Store) -> None:
    _federation(store)
    with store.session() as s:
        org = get_organisation(s, "r0a")
    assert org.code == "R0A"
    assert org.parent == "QOP"
    assert org.networks == ("10.1.0.0/16", "2001:db8:1::/48")
    assert org.contacts == (Contact("Ada Lovelace", "ada@mft.nhs.uk", "security lead"),)
    assert org.hosts == (Host("www.mft.nhs.uk"),)
    with store.session() as s:
        assert get_organisation(s, "QOP").children == 2


def test_names_of_an_organisation_are_its_parents_and_hosts_without_the_rest(
    store: Store,
) -> None:
    _federation(store)
    with store.session() as s:
        trust = organisation_names_of(s, "r0a")
        icb = organisation_names_of(s, "QOP")
        with pytest.raises(NotFoundError, match="ZZZ"):
            organisation_names_of(s, "ZZZ")
    assert trust.code == "R0A"
    assert trust.name == "Manchester University NHS FT"
    assert trust.parent_name == "Greater Manchester ICB"
    assert trust.hostnames == ("www.mft.nhs.uk",)
    assert (icb.parent_name, icb.hostnames) == (None, ())


def test_nested_allocation_is_allowed_but_same_cidr_twice_is_not(store: Store) -> None:
    _federation(store)
    with store.session() as s:
        assert ("10.1.4.0/24", "P84001") in all_networks(s)
    with (
        pytest.raises(ConflictError, match=r"10\.1\.0\.0/16 is already registered to R0A"),
        store.session() as s,
    ):
        add_network(s, "P84001", "10.1.0.0/16", actor=Actor.cli("test"))


def test_cidr_with_host_bits_is_rejected_with_the_value(store: Store) -> None:
    _federation(store)
    with pytest.raises(InputError, match=r"invalid CIDR '10\.1\.0\.1/16'"), store.session() as s:
        add_network(s, "R0A", "10.1.0.1/16", actor=Actor.cli("test"))


def test_unknown_parent_and_unknown_code(store: Store) -> None:
    with pytest.raises(NotFoundError, match="NOPE"), store.session() as s:
        save_organisation(
            s, Organisation("R0A", "x", OrgType.TRUST, parent="NOPE"), actor=Actor.cli("test")
        )
    with pytest.raises(NotFoundError), store.session() as s:
        get_organisation(s, "R0A")


def test_create_only_refuses_duplicate_code(store: Store) -> None:
    _federation(store)
    with pytest.raises(ConflictError, match="R0A already exists"), store.session() as s:
        save_organisation(
            s,
            Organisation("R0A", "again", OrgType.TRUST),
            create_only=True,
            actor=Actor.cli("test"),
        )


def test_list_filters_search_and_pages(store: Store) -> None:
    _federation(store)
    with store.session() as s:
        found, total = list_organisations(s, search="surgery")
        assert [o.code for o in found] == ["P84001"]
        assert total == 1
        found, total = list_organisations(s, parent="QOP", limit=1, offset=1)
        assert [o.code for o in found] == ["R0A"]
        assert total == 2
        found, _ = list_organisations(s, type=OrgType.ICB)
        assert [o.code for o in found] == ["QOP"]


def test_top_ancestors_climb_each_chain_of_parents_to_its_top(store: Store) -> None:
    _federation(store)
    with store.session() as s:
        save_organisation(
            s, Organisation("Y62", "North West", OrgType.REGION), actor=Actor.cli("t")
        )
        region = get_organisation(s, "QOP")
        save_organisation(
            s,
            Organisation(region.code, region.name, region.type, parent="Y62"),
            actor=Actor.cli("t"),
        )
        found = top_ancestors(s, ["P84001", "R0A", "QOP", "Y62", "NOPE"])
    # Three levels up, two, one, none; a code not in the federation is its own top.
    assert found == {"P84001": "Y62", "R0A": "Y62", "QOP": "Y62", "Y62": "Y62", "NOPE": "NOPE"}
