"""The synthetic federation: its shape, its address plan, and loading it into the store."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

import pytest

from bastion.audit import Actor
from bastion.core.errors import InputError
from bastion.core.types import org_code
from bastion.demo import (
    counts_by_type,
    generate_federation,
    load_federation,
    nested_allocations,
    plan_for,
)
from bastion.orgs import (
    OrgType,
    all_networks,
    count_organisations,
    get_organisation,
    parse_cidr,
    parse_email,
    parse_hostname,
)
from bastion.orgs.csvio import NHS_REGIONS
from bastion.store import Store

DEFAULT = generate_federation()
SMALL = generate_federation(size="small")
CODE_SHAPES = {
    OrgType.REGION: r"Y\d\d",
    OrgType.ICB: r"Q[A-Z0-9]{2}",
    OrgType.TRUST: r"R[A-Z0-9]{2}",
    OrgType.GP_PRACTICE: r"[A-Z]\d{5}",
    OrgType.CARE_PROVIDER: r"V[A-Z]\d[A-Z]\d",
    OrgType.SUPPLIER: r"8[A-Z]{2}\d\d",
    OrgType.ARMS_LENGTH_BODY: r"X[A-Z0-9]{2}",
}


def test_same_seed_gives_identical_federation() -> None:
    assert generate_federation(7) == DEFAULT
    assert generate_federation(11, "small") == generate_federation(11, "small")


def test_different_seed_gives_different_federation() -> None:
    other = generate_federation(8)
    assert [o.code for o in other] != [o.code for o in DEFAULT]
    assert [o.name for o in other] != [o.name for o in DEFAULT]


def test_default_counts_by_type_are_realistic() -> None:
    counts = counts_by_type(DEFAULT)
    assert counts["region"] == 7
    assert 40 <= counts["icb"] <= 44
    assert 130 <= counts["trust"] <= 170
    assert 180 <= counts["gp_practice"] <= 220
    assert counts["care_provider"] >= 10
    assert 1 <= counts["supplier"] <= 5
    assert 1 <= counts["arms_length_body"] <= 3
    assert 300 <= len(DEFAULT) <= 500


def test_regions_are_the_seven_nhs_england_regions() -> None:
    regions = {o.code: o.name for o in DEFAULT if o.type is OrgType.REGION}
    assert regions == NHS_REGIONS


def test_numeric_size_scales_the_federation() -> None:
    big = generate_federation(size=1500)
    assert 1450 <= len(big) <= 1550
    assert counts_by_type(big)["gp_practice"] > counts_by_type(DEFAULT)["gp_practice"]


@pytest.mark.parametrize("size", ["huge", 3, 10**6])
def test_unknown_or_out_of_range_size_is_rejected(size: str | int) -> None:
    with pytest.raises(InputError, match="size"):
        plan_for(size)


@pytest.mark.parametrize("orgs", [DEFAULT, SMALL], ids=["default", "small"])
def test_every_parent_exists_and_comes_first(orgs: list) -> None:
    seen: set[str] = set()
    for org in orgs:
        assert org.parent is None or org.parent in seen, org.code
        seen.add(org.code)
    by_code = {o.code: o for o in orgs}
    for org in orgs:
        if org.type in {OrgType.TRUST, OrgType.GP_PRACTICE, OrgType.CARE_PROVIDER}:
            assert by_code[org.parent or ""].type is OrgType.ICB
        if org.type is OrgType.ICB:
            assert by_code[org.parent or ""].type is OrgType.REGION


@pytest.mark.parametrize("orgs", [DEFAULT, SMALL], ids=["default", "small"])
def test_codes_are_unique_valid_and_ods_shaped(orgs: list) -> None:
    codes = [o.code for o in orgs]
    assert len(codes) == len(set(codes))
    for org in orgs:
        assert org_code(org.code) == org.code
        assert re.fullmatch(CODE_SHAPES[org.type], org.code), org.code


@pytest.mark.parametrize("orgs", [DEFAULT, SMALL], ids=["default", "small"])
def test_no_two_organisations_own_the_same_cidr(orgs: list) -> None:
    owned = [c for o in orgs for c in o.networks]
    assert len(owned) == len(set(owned))
    assert all(parse_cidr(c) == c for c in owned)


@pytest.mark.parametrize("orgs", [DEFAULT, SMALL], ids=["default", "small"])
def test_nested_allocations_are_gp_practices_strictly_inside_icb_or_trust(orgs: list) -> None:
    types = {o.code: o.type for o in orgs}
    nested = nested_allocations(orgs)
    assert nested, "the plan must exercise the most-specific-network rule"
    for inner, inner_code, outer, outer_code in nested:
        inner_net, outer_net = ipaddress.ip_network(inner), ipaddress.ip_network(outer)
        assert inner_net != outer_net
        assert inner_net.subnet_of(outer_net)  # type: ignore[arg-type]
        assert inner_code != outer_code
        assert types[inner_code] is OrgType.GP_PRACTICE
        assert types[outer_code] in {OrgType.ICB, OrgType.TRUST}
    hosts = {types[outer] for _, _, _, outer in nested}
    assert hosts == {OrgType.ICB, OrgType.TRUST}
    assert {ipaddress.ip_network(i).version for i, *_ in nested} == {4, 6}


def test_every_organisation_has_ipv4_and_ipv6_networks() -> None:
    for org in DEFAULT:
        versions = {ipaddress.ip_network(c).version for c in org.networks}
        assert versions == {4, 6}, org.code
        assert all(
            ipaddress.ip_network(c).subnet_of(ipaddress.ip_network("2001:db8::/32"))  # type: ignore[arg-type]
            for c in org.networks
            if ":" in c
        )


def test_trusts_and_icbs_have_contacts_and_internet_facing_hosts_in_their_blocks() -> None:
    for org in DEFAULT:
        assert org.contacts, org.code
        for contact in org.contacts:
            assert parse_email(contact.email) == contact.email
        if org.type not in {OrgType.TRUST, OrgType.ICB}:
            continue
        domain = org.contacts[0].email.split("@")[1]
        assert domain.endswith(".nhs.uk")
        names = {h.hostname for h in org.hosts}
        assert names == {f"{p}.{domain}" for p in ("www", "mail", "vpn", "portal")}
        for host in org.hosts:
            assert parse_hostname(host.hostname) == host.hostname
            address = ipaddress.ip_address(host.address or "")
            assert any(address in ipaddress.ip_network(c) for c in org.networks)


def test_loading_twice_leaves_the_same_federation(store: Store) -> None:
    with store.session() as session:
        first = load_federation(session, SMALL, actor=Actor.cli("test"))
    with store.session() as session:
        second = load_federation(session, SMALL, actor=Actor.cli("test"))
        assert count_organisations(session) == len(SMALL)
        assert len(all_networks(session)) == sum(len(o.networks) for o in SMALL)
    assert (first.created, first.unchanged) == (len(SMALL), 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, len(SMALL))


def test_loading_a_changed_organisation_updates_it_in_place(store: Store) -> None:
    with store.session() as session:
        load_federation(session, SMALL, actor=Actor.cli("test"))
    trust = next(o for o in SMALL if o.type is OrgType.TRUST)
    renamed = replace(trust, name="Renamed NHS Trust", hosts=trust.hosts[:2])
    changed = [renamed if o.code == trust.code else o for o in SMALL]
    with store.session() as session:
        report = load_federation(session, changed, actor=Actor.cli("test"))
    with store.session() as session:
        stored = get_organisation(session, trust.code)
        assert count_organisations(session) == len(SMALL)
    assert (report.updated, report.unchanged) == (1, len(SMALL) - 1)
    assert stored.name == "Renamed NHS Trust"
    assert sorted(stored.networks) == sorted(trust.networks)
    assert len(stored.hosts) == 2


def test_loaded_federation_reads_back_as_generated(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        load_federation(session, SMALL, actor=Actor.cli("test"))
    with sqlite_store.session() as session:
        for org in SMALL[:12]:
            stored = get_organisation(session, org.code)
            assert stored.parent == org.parent
            assert sorted(stored.networks) == sorted(org.networks)
            assert stored.contacts == org.contacts
            assert {h.hostname: h.address for h in stored.hosts} == {
                h.hostname: h.address for h in org.hosts
            }
