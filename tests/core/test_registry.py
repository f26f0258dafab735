"""The one registry type: names in the literal's order, one error listing them."""

from __future__ import annotations

import pytest

from bastion.core.errors import InputError, Location, RegistryNameError
from bastion.core.registry import Registry


def _colours() -> Registry[int]:
    return Registry("colour", (("red", 1), ("green", 2), ("blue", 3)))


def test_a_registry_keeps_the_literals_names_and_order() -> None:
    colours = _colours()
    assert colours.names() == ("red", "green", "blue")
    assert list(colours) == ["red", "green", "blue"]
    assert colours.values() == (1, 2, 3)
    assert colours.items() == (("red", 1), ("green", 2), ("blue", 3))
    assert (colours.get("green"), colours["blue"], len(colours)) == (2, 3, 3)
    assert "red" in colours
    assert "mauve" not in colours


def test_an_unknown_name_is_an_input_error_listing_the_valid_names() -> None:
    with pytest.raises(RegistryNameError) as raised:
        _colours().get("mauve")
    assert str(raised.value) == "unknown colour 'mauve'; choose one of red, green, blue"
    assert isinstance(raised.value, InputError)  # the CLI and API answer it as bad input
    with pytest.raises(RegistryNameError, match=r"^field 'kind': unknown colour 'x'"):
        _colours().get("x", Location(field="kind"))
    with pytest.raises(RegistryNameError, match="choose one of red, green, blue"):
        _colours()["mauve"]


def test_a_name_listed_twice_is_refused_when_the_registry_is_built() -> None:
    with pytest.raises(RegistryNameError) as raised:
        Registry("colour", (("red", 1), ("green", 2), ("red", 3)))
    assert str(raised.value) == "colour 'red' is listed twice; the colours are red, green"
