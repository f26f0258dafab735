from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.intel import normalise_url, normalise_urls


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTP://Evil.Example", "http://evil.example/"),
        ("http://evil.example:80/a?b", "http://evil.example/a?b"),
        ("https://evil.example:443", "https://evil.example/"),
        ("https://evil.example:8443/Case", "https://evil.example:8443/Case"),
        ("http://User@Evil.Example./p#frag", "http://user@evil.example/p#frag"),
        ("http://evil.example?q=1", "http://evil.example/?q=1"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("http://evil.example/already/normal", "http://evil.example/already/normal"),
        ("evil.example/no-scheme", None),
        ("http:///no-host", None),
        ("http://a@b@c/", None),
    ],
)
def test_url_normal_form(url: str, normal: str | None) -> None:
    assert normalise_url(url) == normal
    assert normalise_urls(pl.Series([url])).to_list() == [normal]


url_parts = st.tuples(
    st.sampled_from(["http", "HTTP", "https", "Https", "ftp", "h2c+x"]),
    st.sampled_from(["", "user@", "User:Pw@", "a@b@"]),
    st.sampled_from(["evil.example", "Evil.EXAMPLE.", "[2001:DB8::1]", "x", ".", "a-b.c_d"]),
    st.sampled_from(["", ":", ":80", ":443", ":0080", ":8080", ":x"]),
    st.text(alphabet="/?#aB%=.:@ ", max_size=12),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(url_parts.map(lambda p: f"{p[0]}://{''.join(p[1:])}"), max_size=20))
def test_polars_and_python_normalisers_agree(urls: list[str]) -> None:
    assert normalise_urls(pl.Series(urls, dtype=pl.String)).to_list() == [
        normalise_url(u) for u in urls
    ]
