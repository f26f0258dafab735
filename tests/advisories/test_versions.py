"""Version semantics per ecosystem and the order that turns ranges into number comparisons."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.advisories.versions import VersionOrder, compare


@pytest.mark.parametrize(
    ("ecosystem", "lower", "higher"),
    [
        ("maven", "2.14.1", "2.15.0"),
        ("maven", "2.15.0-rc1", "2.15.0"),
        ("npm", "1.2.3-beta.1", "1.2.3"),
        ("pypi", "1.0rc1", "1.0"),
        ("pypi", "1.0", "1.0.post1"),
        ("deb", "2.4-1", "1:2.3-1"),  # the epoch wins
        ("deb", "1.1.0l-1~deb9u1", "1.1.0l-1"),  # a tilde sorts before anything
        ("apk", "3.4.0-r0", "3.4.0-r1"),
        ("rpm", "1.2-3.el8", "1.10-1.el8"),
        ("golang", "v1.2.3", "v1.10.0"),
        ("nuget", "1.0.0-beta", "1.0.0"),
        ("generic", "2.9", "2.10"),
        ("cpe", "7.2.4", "7.2.10"),
    ],
)
def test_ecosystem_ordering(ecosystem: str, lower: str, higher: str) -> None:
    assert compare(ecosystem, lower, higher) == -1
    assert compare(ecosystem, higher, lower) == 1


def test_equal_versions_share_a_key() -> None:
    order = VersionOrder("maven")
    keys = order.keys_of(["2.4", "2.4.0", "2.5"])
    assert keys["2.4"] == keys["2.4.0"]
    assert keys["2.4"] is not None
    assert keys["2.5"] is not None
    assert keys["2.4"] < keys["2.5"]


def test_invalid_version_gets_no_key() -> None:
    assert VersionOrder("pypi").keys_of(["not a version"]) == {"not a version": None}


_versions = st.lists(
    st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(0, 30)).map(
        lambda t: f"{t[0]}.{t[1]}.{t[2]}"
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_versions, min_size=1, max_size=6))
def test_keys_agree_with_comparison_across_incremental_batches(batches: list[list[str]]) -> None:
    order = VersionOrder("maven")
    for batch in batches:
        order.keys_of(batch)
    seen = sorted({v for batch in batches for v in batch})
    keys = order.keys_of(seen)
    for a in seen:
        for b in seen:
            ka, kb = keys[a], keys[b]
            assert ka is not None
            assert kb is not None
            assert (ka > kb) - (ka < kb) == compare("maven", a, b)
