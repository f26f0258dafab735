"""Read wanted ``key=value`` pairs of a whole chunk from its bytes, one line shape at a time.

A device writes the keys of one kind of log in a fixed order, so most lines of a chunk
share a few *shapes*: the same keys at the same ``=`` of the line. A shape is learnt
from one sample line; every other line with as many ``=`` is checked against it with
numpy, and the wanted values are then cut out between known positions: no pass over
the text per key, and values become Arrow string views into the chunk's own bytes.

What a line reads this way is what the per-key regex ``(?:^|[ >])key=…`` reads
(``fortigate._value``), because a line is read only when its bytes prove it:

- at every ``=`` the bytes before it rule out a wanted key or spell the same key as
  the sample (up to 16 bytes, back to and including the separator before the key),
  so each wanted key occurs where the sample has it and nowhere else;
- a value is taken only when the regex would end it at the same byte: a one-word
  value holds no space or quote and is followed by one (or the line's end), a text
  value is a quoted string without quotes or escapes inside, or such a word.

Values of ``numeric`` keys have only their first and last bytes checked: the caller
casts them and rejects a line where that fails, and must read such lines again with
its regexes (a space inside, ``1 2``, never casts). Lines that fail a check, rarer
shapes, and lines with an ``=`` in their first 16 bytes of the chunk are left to the
caller (``read`` is false for them).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

Int64s = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Words = npt.NDArray[np.uint32]

_EQ, _QUOTE, _SPACE, _NEWLINE, _BACKSLASH = (ord(c) for c in '=" \n\\')
# A key starts the line (after the previous line's newline), follows a space or the <PRI>.
_SEPARATORS = frozenset(b" >\n")
_WINDOW = 16  # bytes compared before an "=": a separator and a key of up to 15 letters
_MAX_SHAPES = 32  # sample lines tried per chunk; lines of rarer shapes take the regexes
_INLINE = 12  # an Arrow string view holds a value of up to 12 bytes itself
# The bytes of a value of each length 0-12 in each of the 3 inline words of its view.
_INLINE_MASKS = np.array(
    [[(1 << (8 * min(max(n - 4 * w, 0), 4))) - 1 for w in range(3)] for n in range(_INLINE + 1)],
    dtype=np.uint32,
)
# Bytes a value's regex would stop at: a one-word value may hold neither; quoted text
# may hold spaces, and escapes are left to the regexes.
_STOPS = {"word": '[ "]', "quoted": r'["\\]', "bare": r'[ "\\]'}


@dataclass(frozen=True)
class _Shape:
    """What a line must hold before each of its ``=``, and where each wanted key is."""

    worded: Int64s  # the "=" whose up to 16 bytes before must equal the sample's
    low: npt.NDArray[np.uint64]  # for those: the 8 bytes just before, masked
    low_mask: npt.NDArray[np.uint64]
    high: npt.NDArray[np.uint64]  # and the 8 before them
    high_mask: npt.NDArray[np.uint64]
    lettered: Int64s  # the "=" whose last key byte alone rules out every wanted key
    letters: npt.NDArray[np.uint8]
    keys: dict[str, tuple[int, int]]  # key -> (its "=", bytes back to the next key's start)


def _mask(length: int) -> int:
    """Return the mask of the last ``length`` (0-8) bytes of a little-endian word."""
    return ((1 << (8 * length)) - 1) << (8 * (8 - length)) if length else 0


def _learn(buf: npt.NDArray[np.uint8], equals: list[int], wanted: Sequence[str]) -> _Shape | None:
    """Learn the shape of the line whose ``=`` are at ``equals``; None if it cannot serve."""
    spans: list[int] = []  # bytes back to and including the separator, or _WINDOW if none
    names: list[str | None] = []
    for position in equals:
        back = next((n for n in range(1, _WINDOW + 1) if buf[position - n] in _SEPARATORS), None)
        spans.append(back or _WINDOW)
        names.append(None if back is None else bytes(buf[position - back + 1 : position]).decode())
    keys: dict[str, tuple[int, int]] = {}
    for key in wanted:
        if key not in names:
            continue  # a line that matches this shape has none either
        if names.count(key) > 1:
            return None  # which occurrence a regex takes would depend on more than keys
        index = names.index(key)
        keys[key] = (index, spans[index + 1] if index + 1 < len(names) else 0)
    if not keys:
        return None
    endings = {ord(key[-1]) for key in wanted}
    lettered = [
        i for i, p in enumerate(equals) if names[i] not in keys and buf[p - 1] not in endings
    ]
    worded = sorted(set(range(len(equals))) - set(lettered))
    windows = np.stack([buf[equals[i] - _WINDOW : equals[i]] for i in worded]).view("<u8")
    low_mask = np.array([_mask(min(spans[i], 8)) for i in worded], dtype=np.uint64)
    high_mask = np.array([_mask(max(spans[i] - 8, 0)) for i in worded], dtype=np.uint64)
    return _Shape(
        np.array(worded, dtype=np.int64),
        windows[:, 1] & low_mask,
        low_mask,
        windows[:, 0] & high_mask,
        high_mask,
        np.array(lettered, dtype=np.int64),
        np.array([buf[equals[i] - 1] for i in lettered], dtype=np.uint8),
        keys,
    )


def _overlapping(buf: npt.NDArray[np.uint8], dtype: str) -> npt.NDArray[np.generic]:
    """View ``buf`` as one little-endian word of ``dtype`` starting at every byte."""
    size = np.dtype(dtype).itemsize
    return np.ndarray((len(buf) - size + 1,), dtype=dtype, buffer=buf, strides=(1,))


def _matches(shape: _Shape, buf: npt.NDArray[np.uint8], at: Int64s) -> Bools:
    """Return which lines (rows of their "=" positions ``at``) match ``shape``."""
    words = _overlapping(buf, "<u8")
    worded = at[:, shape.worded]
    same = ~((_gather(words, worded - 8) ^ shape.low) & shape.low_mask).any(axis=1)
    long = np.flatnonzero(shape.high_mask)  # only keys of 8 letters or more need these
    if long.size:
        high = _gather(words, worded[:, long] - _WINDOW) ^ shape.high[long]
        same &= ~(high & shape.high_mask[long]).any(axis=1)
    if shape.lettered.size:
        same &= (_gather(buf, at[:, shape.lettered] - 1) == shape.letters).all(axis=1)
    return same


def _gather(values: npt.NDArray[np.generic], at: Int64s) -> npt.NDArray[np.generic]:
    """Return ``values[at]`` for a 2-D ``at``, gathered flat (numpy's 2-D gather is slower)."""
    return values[at.ravel()].reshape(at.shape)


def read_by_shape(
    data: bytes,
    starts: Int64s,
    wanted: Sequence[str],
    text: Collection[str],
    numeric: Collection[str],
) -> tuple[Bools, dict[str, pl.Series]]:
    """Return which lines were read by shape, and a column of each wanted key's value.

    ``data`` holds complete lines each ending in a newline, line ``i`` starting at
    ``starts[i]``. Values are unquoted, null where the line has no such key; on lines not
    read they are to be replaced (the caller reads those again). Keys in ``text`` may hold quoted text with spaces; other values are one word,
    quotes around it dropped. See the module docstring for ``numeric``.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    equals = np.flatnonzero(buf == _EQ)
    first = np.searchsorted(equals, starts)
    counts = np.diff(np.append(first, equals.size))
    ends = np.append(starts[1:], len(buf)) - 1  # each line's newline
    pending = counts > 0
    early = equals[: np.searchsorted(equals, _WINDOW)]  # no window of bytes before these
    pending[np.searchsorted(starts, early, side="right") - 1] = False
    read = np.zeros(len(starts), dtype=np.bool_)
    bounds = np.zeros((len(wanted), 2, len(starts)), dtype=np.int64)  # [begin, end) per key
    quoted = np.zeros((len(wanted), len(starts)), dtype=np.bool_)
    for _ in range(_MAX_SHAPES):
        if not pending.any():
            break
        sample = int(np.argmax(pending))
        rows = np.flatnonzero(pending & (counts == counts[sample]))
        pending[rows] = False
        count = int(counts[sample])
        shape = _learn(buf, equals[first[sample] : first[sample] + count].tolist(), wanted)
        if shape is None:
            continue
        at = equals[first[rows, None] + np.arange(count)]
        same = _matches(shape, buf, at)
        rows, at = rows[same], at[same]
        ok = np.ones(len(rows), dtype=np.bool_)
        for number, key in enumerate(wanted):
            if key not in shape.keys:
                continue
            index, back = shape.keys[key]
            begin = at[:, index] + 1
            end = at[:, index + 1] - back if back else ends[rows]
            kind = "text" if key in text else "numeric" if key in numeric else "word"
            begin, end, good, in_quotes = _value_bounds(buf, begin, end, kind)
            ok &= good
            bounds[number, 0, rows], bounds[number, 1, rows] = begin, end
            quoted[number, rows] = in_quotes
        read[rows[ok]] = True
    columns = {
        key: _views(
            key, buf, bounds[number, 0], np.where(read, bounds[number, 1] - bounds[number, 0], 0)
        )
        for number, key in enumerate(wanted)
    }
    stops = []
    for number, key in enumerate(wanted):
        value = pl.col(key)
        if key in text:
            in_quotes = pl.lit(pl.Series(quoted[number]))
            stop = pl.when(in_quotes).then(value.str.contains(_STOPS["quoted"]))
            stops.append(stop.otherwise(value.str.contains(_STOPS["bare"])))
        elif key not in numeric:
            stops.append(value.str.contains(_STOPS["word"]))
    if stops:
        stopped = pl.DataFrame(columns).select(pl.any_horizontal(stops).fill_null(False))
        read &= ~stopped.to_series().to_numpy()
    return read, columns


def _value_bounds(
    buf: npt.NDArray[np.uint8], begin: Int64s, end: Int64s, kind: str
) -> tuple[Int64s, Int64s, Bools, Bools]:
    """Return each value's unquoted bounds in ``[begin, end)``, whether its ends are sure, and quoted.

    Sure means the key's regex ends the value at the same byte (its inner bytes are
    checked by ``_holds_stops``). Bounds stay clear of the buffer's last bytes, which
    the word-wise reads would run past.
    """
    quoted = buf[begin] == _QUOTE
    after = buf[end]
    if kind == "text":
        closed = (buf[end - 1] == _QUOTE) & (end - 1 > begin + 1)
        word = (end > begin) & ((after == _SPACE) | (after == _NEWLINE))
        good = np.where(quoted, closed, word)
        begin, end = begin + quoted, end - quoted
    else:
        begin = begin + quoted
        closing = (end - 1 >= begin) & (buf[end - 1] == _QUOTE)
        end = end - closing
        after = buf[end]
        good = (end > begin) & ((after == _SPACE) | (after == _QUOTE) | (after == _NEWLINE))
        if kind == "numeric":  # inner bytes are left to the caller's cast
            for edge in (buf[begin], buf[end - 1]):
                good &= (edge != _SPACE) & (edge != _QUOTE)
    good &= end + _WINDOW <= len(buf)
    return begin, end, good, quoted


def _views(name: str, buf: npt.NDArray[np.uint8], begin: Int64s, lengths: Int64s) -> pl.Series:
    """Return the values as Arrow string views: inline up to 12 bytes, else into ``buf``."""
    begin = np.where(lengths > 0, begin, 0)
    views = np.empty((len(begin), 4), dtype=np.uint32)
    views[:, 0] = lengths
    # Two 8-byte reads give the 12 inline bytes (numpy gathers 8-byte words fastest).
    words = _overlapping(buf, "<u8")
    head, tail = words[begin], words[begin + 4] >> np.uint64(32)
    inline = np.stack([head & np.uint64(0xFFFFFFFF), head >> np.uint64(32), tail], axis=1)
    views[:, 1:] = inline.astype(np.uint32) & _INLINE_MASKS[np.minimum(lengths, _INLINE)]
    long = np.flatnonzero(lengths > _INLINE)  # the first 4 bytes stay, then buffer 0, offset
    views[long, 2], views[long, 3] = 0, begin[long]
    present = np.packbits(lengths > 0, bitorder="little")
    array = pa.Array.from_buffers(
        pa.string_view(),
        len(begin),
        [pa.py_buffer(present), pa.py_buffer(views), pa.py_buffer(buf)],
    )
    series = pl.from_arrow(array)  # zero-copy, unlike pl.Series(..., dtype=pl.String)
    assert isinstance(series, pl.Series)
    return series.alias(name)
