"""Syslog framing: headers split off whole columns of lines, and TCP frames cut from a stream.

``split_syslog`` reads the header every syslog-borne format shares, for a whole
column at once:

- RFC 3164 (BSD): ``<134>Nov 25 13:01:02 fw01 tag[123]: msg``; the ``<PRI>`` is
  optional (files written by a syslog daemon drop it), the time may carry a year
  (``Nov 25 2026 13:01:02``, as Cisco ASA writes it) or be RFC 3339
  (``2026-11-25T13:01:02.123+01:00``, as rsyslog writes it), and host and tag are
  each optional.
- RFC 5424: ``<165>1 2026-11-25T13:01:02.123Z fw01 app procid msgid [sd] msg``
  with structured data ``-`` or one or more ``[…]`` elements.
- a bare ``<PRI>`` before the message (FortiGate sends ``<189>date=…``).

BSD times carry no zone: they are read in the source's ``timezone`` (an IANA name,
UTC by default) and converted to UTC. They carry no year unless the device adds one,
so the caller gives ``default_year``; when it also gives ``received`` (when the lines
arrived, or the file was last written), a date without a year that would fall more
than a day after that moment is from the year before: ``Dec 31`` received on
``Jan 1`` of ``default_year`` is the last day of the year before.

``OctetCountedDecoder`` cuts a TCP byte stream into frames: RFC 6587 octet
counting (``LEN SP MSG``) or, for a frame that does not start with digits and a
space, newline-delimited ("non-transparent") framing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from bastion.core.errors import FormatError, Location
from bastion.core.events import TIMESTAMP

# ASCII classes only: Unicode \d and \w make the automata much bigger and slower.
_PRI = r"<[0-9]{1,3}>"
_FRACTION = r"(?:\.[0-9]{1,9})?"
_CLOCK = rf"[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}{_FRACTION}"
_BSD_TIME = rf"[A-Z][a-z]{{2}} [ 0-9]?[0-9](?: [0-9]{{4}})? {_CLOCK}"
_ISO_TIME = rf"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T{_CLOCK}(?:Z|[+-][0-9]{{2}}:[0-9]{{2}})"
# A host name or address; never starts with % (Cisco's %ASA-…) nor ends with ":" (a tag).
_HOST = r"[A-Za-z0-9_.\[\]-](?:[A-Za-z0-9_.:\[\]-]*[A-Za-z0-9_.\]-])?"
# The tag must be followed by ": " so that "CEF:0|…" and "LEEF:1.0|…" stay in the message.
_TAG = r"[A-Za-z0-9_./-]{0,48}(?:\[[0-9]+\])?: "
RFC3164_HEADER = rf"^(?:{_PRI})?(?:{_BSD_TIME}|{_ISO_TIME}):? +(?:{_HOST} +)?(?:{_TAG})?"
_SD_ELEMENT = r'\[(?:[^\]"\\]|\\.|"(?:[^"\\]|\\.)*")*\]'
RFC5424_HEADER = (
    rf"^{_PRI}1 (?:-|{_ISO_TIME}) [!-~]+ [!-~]+ [!-~]+ [!-~]+ (?:-|(?:{_SD_ELEMENT})+)(?: |$)"
)

SYSLOG_COLUMNS = ("syslog.timestamp", "syslog.hostname", "syslog.appname", "message")


def iso_time(text: pl.Expr) -> pl.Expr:
    """Parse RFC 3339 times (``Z`` or ``±hh:mm``) to UTC; anything else becomes null."""
    return (
        text.str.replace(r"Z$", "+00:00")
        .str.strptime(TIMESTAMP, "%Y-%m-%dT%H:%M:%S%.f%:z", strict=False)
        .dt.convert_time_zone("UTC")
    )


# A yearless date this far after the moment its line was received is from the year before.
_FUTURE_SLACK = timedelta(days=1)


def bsd_without_year(text: pl.Expr, default_year: int) -> pl.Expr:
    """Parse ``Mmm dd hh:mm:ss[.f]`` (no year) as a naive time in ``default_year``."""
    return pl.concat_str([pl.lit(f"{default_year} "), text]).str.strptime(
        pl.Datetime("us"), "%Y %b %e %H:%M:%S%.f", strict=False
    )


def bsd_time(
    text: pl.Expr,
    without_year: pl.Expr,
    *,
    timezone: str = "UTC",
    received: datetime | None = None,
) -> pl.Expr:
    """Parse ``Mmm dd [yyyy] hh:mm:ss[.f]`` in ``timezone`` to UTC.

    ``without_year`` is ``bsd_without_year`` of ``text``, as a column (it is read twice:
    a parse in each place would cost twice). A time without a year is in that year, or the
    year before when that would put it more than a day after ``received`` (see the
    module docstring).
    """
    if received is not None:
        # Compared as the device's wall-clock time, as the parsed text is.
        aware = received if received.tzinfo is not None else received.replace(tzinfo=UTC)
        limit = aware.astimezone(ZoneInfo(timezone)).replace(tzinfo=None) + _FUTURE_SLACK
        without_year = (
            pl.when(without_year > limit)
            .then(without_year.dt.offset_by("-1y"))
            .otherwise(without_year)
        )
    with_year = text.str.strptime(pl.Datetime("us"), "%b %e %Y %H:%M:%S%.f", strict=False)
    local = pl.coalesce(without_year, with_year)
    if timezone == "UTC":
        return local.dt.replace_time_zone("UTC")
    # A time that does not exist (a spring-forward gap) is null; an ambiguous one (the
    # autumn hour repeated) is taken as the earlier.
    return local.dt.replace_time_zone(
        timezone, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")


def split_syslog(
    lines: pl.Series,
    default_year: int,
    *,
    timezone: str = "UTC",
    received: datetime | None = None,
) -> pl.DataFrame:
    """Split each line into its syslog header fields and the message after them.

    ``timezone`` and ``received`` say how to read BSD times (see ``bsd_time``); RFC 3339
    and RFC 5424 times carry their own offset.

    Returns one row per line with ``syslog.timestamp`` (UTC, null without a header
    or with an impossible date), ``syslog.hostname``, ``syslog.appname`` and
    ``message`` (the whole line when it has no header; the line after ``<PRI>``
    when it has only that).
    """
    line = pl.col("line")
    frame = pl.DataFrame({"line": lines.cast(pl.String)}).with_columns(
        h3164=line.str.extract(RFC3164_HEADER, 0),
        h5424=line.str.extract(RFC5424_HEADER, 0),
        pri=line.str.extract(rf"^{_PRI}", 0),
    )
    h3164, h5424 = pl.col("h3164"), pl.col("h5424")
    # str.slice counts characters; RFC 3164 headers and <PRI> are ASCII by construction,
    # so their byte length (much cheaper to take) is their length in characters.
    header_chars = pl.coalesce(
        h5424.str.len_chars(), h3164.str.len_bytes(), pl.col("pri").str.len_bytes(), 0
    )
    message = line.str.slice(header_chars)
    none = pl.lit(None, pl.String)
    times: list[pl.Expr] = []
    hosts: list[pl.Expr] = [none]
    apps: list[pl.Expr] = [none]
    # A source sends one kind of header: skipping the kinds a batch lacks saves most work.
    if frame.get_column("h3164").null_count() < frame.height:
        frame = _rfc3164_fields(frame, default_year, timezone, received)
        times.append(pl.col("_time3164"))
        hosts.insert(0, pl.col("_host3164"))
        apps.insert(0, pl.col("_app3164"))
    if frame.get_column("h5424").null_count() < frame.height:
        # RFC 5424: "<PRI>1 TIME HOST APP PROCID MSGID SD"; "-" is the nil value.
        parts = h5424.str.splitn(" ", 7)
        times.append(iso_time(_nil(parts.struct.field("field_1"))))
        hosts.insert(0, _nil(parts.struct.field("field_2")))
        apps.insert(0, _nil(parts.struct.field("field_3")))
        # RFC 5424 lets a UTF-8 message start with a byte-order mark; it is not content.
        message = message.str.strip_prefix("\ufeff")
    return frame.select(
        (pl.coalesce(times) if times else pl.lit(None)).cast(TIMESTAMP).alias("syslog.timestamp"),
        pl.coalesce(hosts).alias("syslog.hostname"),
        pl.coalesce(apps).alias("syslog.appname"),
        message.alias("message"),
    )


def _nil(value: pl.Expr) -> pl.Expr:
    return pl.when(value != "-").then(value)


def _rfc3164_fields(
    frame: pl.DataFrame, default_year: int, timezone: str, received: datetime | None
) -> pl.DataFrame:
    """Add the time, host and tag of RFC 3164 headers: ``[<PRI>]TIME[:] [HOST ][TAG[PID]: ]``.

    Times are read as ``bsd_time`` says (``timezone``, ``default_year``, ``received``).
    """
    stamp, rest = pl.col("_stamp"), pl.col("_rest")
    # Each stage is materialised once rather than recomputed by every expression using it.
    frame = (
        frame.with_columns(
            _stamp=pl.col("h3164").str.extract(rf"^(?:{_PRI})?(?:{_BSD_TIME}|{_ISO_TIME})", 0)
        )
        .with_columns(
            _rest=pl.col("h3164").str.slice(stamp.str.len_bytes()).str.strip_chars_start(": "),
            _stamp=stamp.str.replace(rf"^{_PRI}", ""),
        )
        .with_columns(_no_year=bsd_without_year(stamp, default_year))
    )
    bsd = bsd_time(stamp, pl.col("_no_year"), timezone=timezone, received=received)
    first_word = rest.str.extract(r"^[^ ]+", 0)
    return frame.with_columns(
        _time3164=pl.coalesce(bsd, iso_time(stamp)),
        _host3164=pl.when(~first_word.str.ends_with(":")).then(first_word),
        _app3164=rest.str.extract(r"([A-Za-z0-9_./-]+)(?:\[[0-9]+\])?: $", 1),
    )


_LENGTH = re.compile(rb"[0-9]+")
_SPACE = 0x20
_NEWLINE = b"\n"


class OctetCountedDecoder:
    """Cut a syslog TCP stream into frames, keeping a partial frame for the next read.

    A frame that starts with digits and a space is octet-counted (RFC 6587
    ``MSG-LEN SP SYSLOG-MSG``); any other frame runs to the next newline
    (non-transparent framing). Both may mix in one stream. Trailing CR/LF is
    removed from every frame, and blank lines between frames are skipped.

    Raises FormatError (with the stream's byte offset) when a length is not a
    valid RFC 6587 length, or a frame is longer than ``max_frame`` bytes: the
    sender is then out of step and the connection should be closed.
    """

    def __init__(self, max_frame: int = 1 << 20, source: str = "<tcp>") -> None:
        self.max_frame = max_frame
        self.source = source
        self._buffer = bytearray()
        self._offset = 0  # stream offset of the first byte in the buffer
        self._max_digits = len(str(max_frame))

    @property
    def pending(self) -> int:
        """Return how many bytes wait for the rest of their frame."""
        return len(self._buffer)

    def _error(self, message: str, at: int) -> FormatError:
        return FormatError(f"{message} at byte offset {at}", Location(file=self.source))

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data`` from the stream and return the frames it completes, in order."""
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        pos, end = 0, len(buffer)
        # One iteration per frame, not per byte: this runs once per network read.
        while pos < end:
            if buffer[pos] in b"\r\n":
                pos += 1
                continue
            digits = _LENGTH.match(buffer, pos)
            if digits is not None and (digits.end() == end or buffer[digits.end()] == _SPACE):
                if digits.end() == end:  # the length itself is still arriving
                    if digits.end() - pos > self._max_digits:
                        too_long = self._too_long(bytes(buffer[pos:end]))
                        raise self._error(too_long, self._offset + pos)
                    break
                size = self._length(bytes(buffer[pos : digits.end()]), self._offset + pos)
                start = digits.end() + 1
                if end - start < size:
                    break
                frames.append(bytes(buffer[start : start + size]).rstrip(b"\r\n"))
                pos = start + size
                continue
            newline = buffer.find(_NEWLINE, pos)
            if newline < 0:
                if end - pos > self.max_frame:
                    msg = f"line longer than {self.max_frame} bytes without a newline"
                    raise self._error(msg, self._offset + pos)
                break
            frames.append(bytes(buffer[pos:newline]).rstrip(b"\r"))
            pos = newline + 1
        del buffer[:pos]
        self._offset += pos
        return frames

    def flush(self) -> list[bytes]:
        """Return what is left when the stream ends; a cut-off octet-counted frame is an error."""
        rest = bytes(self._buffer).strip(b"\r\n")
        at = self._offset
        self._offset += len(self._buffer)
        self._buffer.clear()
        if not rest:
            return []
        if re.match(rb"[0-9]+ ", rest):
            msg = "stream ended inside an octet-counted frame"
            raise self._error(msg, at)
        return [rest]

    def _length(self, text: bytes, at: int) -> int:
        """Return the frame length ``text`` says, or raise FormatError."""
        if text.startswith(b"0"):
            msg = (
                f"frame length {text[:20].decode()!r} is not a number from 1 to "
                f"{self.max_frame} without leading zeros (RFC 6587 octet counting)"
            )
            raise self._error(msg, at)
        if len(text) > self._max_digits or int(text) > self.max_frame:
            raise self._error(self._too_long(text), at)
        return int(text)

    def _too_long(self, text: bytes) -> str:
        return (
            f"frame length {text[:20].decode()} exceeds the maximum of {self.max_frame} bytes; "
            "raise max_frame if the sender really sends such messages"
        )
