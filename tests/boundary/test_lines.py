from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bastion.boundary.lines import split_lines


def test_lines_and_their_byte_offsets() -> None:
    lines = split_lines(b"a\nbb\r\n\nccc", base_offset=100)
    assert lines.text.to_list() == ["a", "bb", "", "ccc"]
    assert lines.offsets.tolist() == [100, 102, 106, 107]


def test_invalid_utf8_is_repaired_not_fatal_and_offsets_stay_exact() -> None:
    lines = split_lines(b"ok\n\xff\xfebad\nz\n")
    assert lines.text.to_list() == ["ok", "\ufffd\ufffdbad", "z"]
    assert lines.offsets.tolist() == [0, 3, 9]


def test_empty_input_has_no_lines() -> None:
    assert len(split_lines(b"")) == 0


@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
            max_size=30,
        ),
        min_size=1,
    )
)
def test_split_agrees_with_python_splitlines(parts: list[str]) -> None:
    data = "\n".join(parts).encode()
    lines = split_lines(data)
    expected = data.decode().split("\n")
    if expected[-1] == "":
        expected.pop()  # a trailing newline ends the last line; it does not start another
    assert lines.text.to_list() == expected
    starts = [0]
    for part in expected:
        starts.append(starts[-1] + len(part.encode()) + 1)
    assert lines.offsets.tolist() == starts[: len(expected)]
