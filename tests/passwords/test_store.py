"""The store answers exactly as a hashlib reference does: lookups, ranges, counts, updates."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import pytest
from tests.passwords.conftest import Corpus, ntlm_reference

from bastion.core.errors import InputError
from bastion.passwords import (
    Builder,
    decode_counts,
    encode_counts,
    md4_many,
    ntlm_many,
    open_store,
    sha1_many,
    source,
)
from bastion.passwords.store import INDEX_BYTES_PER_HASH, Mode, padded_lines


def _rows(hexes: list[str]) -> np.ndarray:
    return np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(len(hexes), -1)


def test_md4_matches_rfc1320_vectors() -> None:
    vectors = {
        b"": "31d6cfe0d16ae931b73c59d7e0c089c0",
        b"a": "bde52cb31de33e46245e05fbdbd6fb24",
        b"abc": "a448017aaf21d8525fc10ae87aa6729d",
        b"message digest": "d9130a8164549fe818874806e1c7014b",
        b"abcdefghijklmnopqrstuvwxyz": "d79e1c308aa5bbcdeea8ed63df412da9",
        b"1234567890" * 8: "e33b4ddc9c38f2199c3e7b164fcc0536",
    }
    digests = md4_many(list(vectors))
    assert [bytes(d).hex() for d in digests] == list(vectors.values())


def test_ntlm_matches_pycryptodome_for_every_ncsc_password_and_long_ones(corpus: Corpus) -> None:
    rng = random.Random(4)
    long_ones = ["é" * n + "x" for n in range(20, 90)] + [
        "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(1, 70))) for _ in range(300)
    ]
    passwords = corpus.passwords + long_ones
    ours = [bytes(d).hex().upper() for d in ntlm_many(passwords)]
    assert ours == [ntlm_reference(p) for p in passwords]


def test_sha1_many_matches_hashlib() -> None:
    passwords = ["", "password", "pässwörd", "🙂" * 40]
    expected = [hashlib.sha1(p.encode()).digest() for p in passwords]
    assert [bytes(d) for d in sha1_many(passwords)] == expected


def test_count_codes_are_exact_below_16_and_within_9_percent_above() -> None:
    counts = np.concatenate(
        [np.arange(0, 5000), np.geomspace(5000, 2**32 - 1, 20000).astype(np.int64)]
    )
    decoded = decode_counts(encode_counts(counts))
    assert (decoded[:16] == counts[:16]).all()
    assert (decoded <= counts).all()
    assert (decoded[1:] >= counts[1:] / 1.085).all()
    assert (np.diff(encode_counts(counts).astype(int)) >= 0).all()


@pytest.mark.parametrize("mode", ["sha1", "ntlm"])
def test_every_lookup_matches_the_reference(corpus: Corpus, mode: str) -> None:
    store = open_store(corpus.root, mode)  # type: ignore[arg-type]
    reference = corpus.reference[mode]
    assert store.records == len(reference)
    hexes = list(reference)
    expected = decode_counts(encode_counts(np.array([reference[h] for h in hexes])))
    assert (store.lookup(_rows(hexes)) == expected).all()
    width = 40 if mode == "sha1" else 32
    rng = random.Random(7)
    absent = [f"{rng.getrandbits(width * 4):0{width}X}" for _ in range(50_000)]
    absent = [h for h in absent if h not in reference]
    assert not store.lookup(_rows(absent)).any()
    for h in hexes[:300] + absent[:300]:
        assert store.lookup_one(bytes.fromhex(h)) == store.lookup(_rows([h]))[0]


def test_index_is_five_bytes_a_hash_plus_the_offsets(corpus: Corpus) -> None:
    store = open_store(corpus.root, "sha1")
    offsets = (2**20 + 1) * 4
    assert store.index_bytes() == offsets + INDEX_BYTES_PER_HASH * store.records


@pytest.mark.parametrize("mode", ["sha1", "ntlm"])
def test_ranges_match_the_reference_exactly(corpus: Corpus, mode: str) -> None:
    store = open_store(corpus.root, mode)  # type: ignore[arg-type]
    by_prefix: dict[str, dict[str, int]] = {}
    for digest, count in corpus.reference[mode].items():
        by_prefix.setdefault(digest[:5], {})[digest[5:]] = count
    for prefix in [*list(by_prefix)[:2000], "00000", "FFFFF"]:
        rows = store.range(prefix.lower())
        assert {r.suffix: r.count for r in rows} == by_prefix.get(prefix, {})
        assert [r.suffix for r in rows] == sorted(r.suffix for r in rows)


@pytest.mark.parametrize("prefix", ["", "ABCD", "ABCDEF", "ABCDG", "12 45", "١٢٣٤٥"])
def test_a_range_prefix_is_five_hex_digits(corpus: Corpus, prefix: str) -> None:
    with pytest.raises(InputError, match="five hex digits"):
        open_store(corpus.root, "sha1").range(prefix)


def _plain(path: Path, passwords: list[str]) -> Path:
    path.write_text("\n".join(passwords) + "\n", encoding="utf-8")
    return path


def test_an_interrupted_build_resumes_and_gives_the_same_store(tmp_path: Path) -> None:
    passwords = [f"pw-{i}" for i in range(20_000)]
    listing = _plain(tmp_path / "list.txt", passwords)
    with pytest.raises(InterruptedError):
        Builder(tmp_path / "a", [source(listing)], crash_after_partitions=100).run()
    assert not (tmp_path / "a" / "sha1").exists()  # nothing swapped in half-built
    resumed = Builder(tmp_path / "a", [source(listing)]).run()
    assert resumed.resumed
    Builder(tmp_path / "b", [source(listing)]).run()
    for mode in ("sha1", "ntlm"):
        for name in ("offsets.u32", "key.u32", "count.u8", "rest.u8", "exact.u32"):
            a = (tmp_path / "a" / mode / name).read_bytes()
            assert a == (tmp_path / "b" / mode / name).read_bytes(), (mode, name)


def test_an_update_merges_and_swaps_while_an_open_store_keeps_answering(tmp_path: Path) -> None:
    root = tmp_path / "store"
    first = _plain(tmp_path / "a.txt", ["alpha-one", "bravo-two"])
    Builder(root, [source(first)]).run()
    before = open_store(root, "sha1")
    digest = hashlib.sha1(b"charlie-three").hexdigest().upper()
    counts = tmp_path / "hibp.txt"
    counts.write_text(f"{digest}:12\n{hashlib.sha1(b'alpha-one').hexdigest().upper()}:9\n")
    result = Builder(root, [source(counts)], update=True).run()
    after = open_store(root, "sha1")
    assert after.generation != before.generation
    assert not before.folder.exists()
    looked = after.lookup(sha1_many(["alpha-one", "bravo-two", "charlie-three", "delta"]))
    assert looked.tolist() == [9, 1, 12, 0]
    assert before.lookup(sha1_many(["alpha-one", "charlie-three"])).tolist() == [1, 0]
    assert result.records == {"sha1": 3, "ntlm": 2}  # NTLM kept as it was
    again = Builder(root, [source(counts)], update=True).run()  # an update is idempotent
    assert again.records["sha1"] == 3
    assert open_store(root, "sha1").lookup(sha1_many(["alpha-one"])).tolist() == [9]


def test_bad_lines_are_skipped_and_named_by_number(tmp_path: Path) -> None:
    good = hashlib.sha1(b"x").hexdigest().upper()
    data = tmp_path / "hibp.txt"
    data.write_text(f"{good}:3\n{good[:-1]}Z:4\n{good}:x\n\n{good}:5\n", encoding="ascii")
    result = Builder(tmp_path / "s", [source(data)]).run()
    assert result.skipped == 2
    assert result.first_bad == ["hibp.txt:2"]
    assert open_store(tmp_path / "s", "sha1").lookup(sha1_many(["x"])).tolist() == [5]


def test_exact_lookups_confirm_a_match_beyond_the_indexs_52_bits(tmp_path: Path) -> None:
    head = "ABCDE1234567AB"  # 14 hex digits: the same first 56 bits (bucket, key and more)
    a, b = head + "0" * 26, head + "F" * 26
    c = head + "7" * 26  # shares a's and b's index entry (52 bits) but is not in the store
    copy = "ABCDE1234567AB00" + "1" * 24  # sorts between a and b by the whole hash
    data = tmp_path / "hibp.txt"
    data.write_text(f"{b}:40\n{a}:3\n{copy}:17\n{a}:9\n", encoding="ascii")  # a twice: max 9
    Builder(tmp_path / "s", [source(data)]).run()
    store = open_store(tmp_path / "s", "sha1")
    assert store.records == 3
    assert [r.suffix for r in store.range("abcde")] == [h[5:] for h in sorted([a, b, copy])]
    assert store.lookup(_rows([a, b, copy, c]), exact=True).tolist() == [9, 40, 17, 0]
    assert [store.lookup_one(bytes.fromhex(h), exact=True) for h in (a, b, copy, c)] == [
        9,
        40,
        17,
        0,
    ]
    assert store.lookup(_rows([c])).tolist() == [9]  # the index alone: a false match, documented


@pytest.mark.parametrize(("mode", "width"), [("sha1", 35), ("ntlm", 27)])
def test_padding_keeps_the_answer_and_adds_distinct_zero_rows_in_order(
    mode: Mode, width: int
) -> None:
    real = sorted(f"{random.randbytes(20).hex().upper()[:width]}:{n}" for n in (3, 1, 40))
    for _ in range(5):
        lines = padded_lines(real, mode)
        assert 800 <= len(lines) <= 1000
        assert lines == sorted(lines)
        assert set(real) <= set(lines)
        suffixes = [line.split(":")[0] for line in lines]
        assert len(set(suffixes)) == len(lines)
        assert all(len(s) == width and int(s, 16) >= 0 for s in suffixes)
        assert [line for line in lines if not line.endswith(":0")] == real
    assert padded_lines(real, mode) != padded_lines(real, mode)  # drawn afresh each time
    many = [f"{i:0{width}X}:1" for i in range(1200)]
    assert padded_lines(many, mode) == many  # already over 1,000: nothing added
