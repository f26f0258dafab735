"""The shared Choice enum parser and the row-to-record helpers of ``bastion.core``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from bastion.core.choices import Choice
from bastion.core.errors import InputError, NotFoundError
from bastion.core.records import from_row, must_exist
from bastion.core.scope import Scope
from bastion.core.types import must_match
from bastion.intel.indicator import IndicatorType
from bastion.orgs import OrgType
from bastion.uptime.agent import agent_name


class Colour(Choice, what="paint colour"):
    DARK_RED = "dark_red"
    BLUE = "blue"


@pytest.mark.parametrize("typed", ["dark_red", " Dark-Red ", "DARK RED", "dark - red"])
def test_parse_forgives_case_spaces_and_hyphens(typed: str) -> None:
    assert Colour.parse(typed) is Colour.DARK_RED


def test_parse_refuses_with_the_valid_values_and_the_field() -> None:
    with pytest.raises(
        InputError, match=r"^unknown paint colour 'green'; choose one of dark_red, blue$"
    ):
        Colour.parse("green")
    with pytest.raises(InputError) as refused:
        IndicatorType.parse("hostname")
    assert refused.value.location.field == "type"
    assert refused.value.reason.startswith("unknown indicator type 'hostname'; choose one of ipv4,")


def test_a_subclass_without_a_name_is_named_after_its_class() -> None:
    class Shape(Choice):
        ROUND = "round"

    with pytest.raises(InputError, match=r"^unknown shape 'square'"):
        Shape.parse("square")


def test_organisation_types_read_their_synonyms() -> None:
    assert OrgType.parse("Integrated Care Board") is OrgType.ICB
    assert OrgType.parse("NHS-trust") is OrgType.TRUST
    assert OrgType.parse("GP") is OrgType.GP_PRACTICE
    with pytest.raises(InputError, match="unknown organisation type 'hospital'"):
        OrgType.parse("hospital")


@dataclass(frozen=True)
class Person:
    name: str
    age: int
    org: str | None


def test_from_row_copies_same_named_attributes_and_takes_the_rest() -> None:
    row = SimpleNamespace(name="Ada", age=36, org_code="RAL", secret="x")
    assert from_row(Person, row, org=row.org_code) == Person("Ada", 36, "RAL")
    assert from_row(Person, row, age=37, org=None) == Person("Ada", 37, None)


def test_from_row_names_a_field_the_row_lacks() -> None:
    with pytest.raises(AttributeError, match="org"):
        from_row(Person, SimpleNamespace(name="Ada", age=36))


def test_must_exist_passes_a_value_through_and_refuses_none() -> None:
    assert must_exist(0, "no zero") == 0
    with pytest.raises(NotFoundError, match=r"^no user 'bob'$"):
        must_exist(None, "no user 'bob'")


_HEX = re.compile(r"[0-9a-f]{4}")


def test_must_match_returns_the_normalised_text_and_names_what_was_typed() -> None:
    assert must_match(_HEX, "beef", "key", " BEEF ") == "beef"
    with pytest.raises(InputError, match=r"^invalid key ' Nope': four hex digits$"):
        must_match(_HEX, "nope", "key", " Nope", "four hex digits")
    with pytest.raises(InputError, match=r"^invalid key 'beefy'$"):
        must_match(_HEX, "beefy", "key", "beefy")  # all of it must match, not a prefix


def test_agent_names_share_the_refusal_shape() -> None:
    assert agent_name(" Leeds-1 ") == "leeds-1"
    with pytest.raises(InputError, match=r"^invalid agent name 'a b': 1-64 lower-case"):
        agent_name("a b")


def test_a_scope_answers_for_what_it_cannot_see_as_for_what_is_not_there() -> None:
    mine, theirs = SimpleNamespace(org_code="RAL"), SimpleNamespace(org_code="RJ1")
    member = Scope.of(["ral"])
    assert member.visible(mine, "no such thing") is mine
    assert Scope.everything().visible(theirs, "no such thing") is theirs
    for hidden in (theirs, None, SimpleNamespace(org_code=None)):
        with pytest.raises(NotFoundError, match=r"^no such thing$"):
            member.visible(hidden, "no such thing")
