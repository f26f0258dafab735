"""TLS for probes: direct or after STARTTLS (SMTP, IMAP, POP3), and what the certificate says.

``open_tls`` connects to ``host:port`` and returns a TLS stream with the time the
TCP connect and the handshake took. With ``starttls`` it first speaks the
protocol's plain-text opening (RFC 3207 for SMTP, RFC 3501 for IMAP, RFC 2595
for POP3) and upgrades the same connection, so a mail server's certificate is
checked exactly as a mail client meets it. A server that does not offer the
upgrade fails with the reply it gave.

Without ``verify`` the handshake accepts any certificate, since an expiring or
self-signed one is what a probe reports; with it the chain and the host name must
verify (against the certificates of ``ca_pem`` if given, else the system's trust store).
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

_REPLY_LIMIT = 64


class HandshakeError(ValueError):
    """The server's plain-text opening did not lead to TLS: what it said, as one line."""


@dataclass(frozen=True)
class Certificate:
    """The leaf certificate a server presented."""

    sha256: str
    subject: str
    not_after: datetime

    def days_left(self, now: datetime | None = None) -> float:
        seconds = (self.not_after - (now or datetime.now(UTC))).total_seconds()
        return round(seconds / 86_400, 3)


def certificate(der: bytes) -> Certificate:
    parsed = x509.load_der_x509_certificate(der)
    return Certificate(
        hashlib.sha256(der).hexdigest(), parsed.subject.rfc4514_string(), parsed.not_valid_after_utc
    )


def peer_certificate(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> Certificate | None:
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return certificate(der) if der else None


def context(options: Mapping[str, Any]) -> ssl.SSLContext:
    """Return the client context a TLS probe's options ask for (see the module docstring)."""
    if options.get("verify"):
        return ssl.create_default_context(cadata=options.get("ca_pem") or None)
    found = ssl.create_default_context()
    found.check_hostname = False
    found.verify_mode = ssl.CERT_NONE
    return found


async def _line(reader: asyncio.StreamReader) -> str:
    line = await reader.readline()
    if not line:
        msg = "the server closed the connection before TLS"
        raise HandshakeError(msg)
    return line.decode("latin-1").rstrip("\r\n")


async def _smtp_reply(reader: asyncio.StreamReader) -> tuple[str, list[str]]:
    """Read one SMTP reply (``250-…`` lines, then ``250 …``); return its code and lines."""
    lines: list[str] = []
    while len(lines) < _REPLY_LIMIT:
        line = await _line(reader)
        lines.append(line[4:])
        if line[3:4] != "-":
            return line[:3], lines
    msg = f"an SMTP reply of over {_REPLY_LIMIT} lines"
    raise HandshakeError(msg)


def _check(ok: bool, step: str, said: str) -> None:
    if not ok:
        msg = f"{step}: the server said {said[:120]!r}"
        raise HandshakeError(msg)


async def _smtp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    code, lines = await _smtp_reply(reader)
    _check(code == "220", "SMTP greeting", f"{code} {' '.join(lines)}")
    writer.write(b"EHLO bastion-uptime\r\n")
    code, lines = await _smtp_reply(reader)
    _check(code == "250", "EHLO", f"{code} {' '.join(lines)}")
    if not any(line.upper().split(" ")[0] == "STARTTLS" for line in lines):
        msg = "the SMTP server does not offer STARTTLS"
        raise HandshakeError(msg)
    writer.write(b"STARTTLS\r\n")
    code, lines = await _smtp_reply(reader)
    _check(code == "220", "STARTTLS", f"{code} {' '.join(lines)}")


async def _imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    greeting = await _line(reader)
    _check(greeting.upper().startswith("* OK"), "IMAP greeting", greeting)
    writer.write(b"b1 STARTTLS\r\n")
    for _ in range(_REPLY_LIMIT):  # untagged lines may come before the tagged answer
        line = await _line(reader)
        if line.startswith("b1 "):
            _check(line.upper().startswith("B1 OK"), "STARTTLS", line)
            return
    msg = "no answer to IMAP STARTTLS"
    raise HandshakeError(msg)


async def _pop3(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    greeting = await _line(reader)
    _check(greeting.startswith("+OK"), "POP3 greeting", greeting)
    writer.write(b"STLS\r\n")
    answer = await _line(reader)
    _check(answer.startswith("+OK"), "STLS", answer)


OPENINGS: dict[str, Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]] = {
    "smtp": _smtp,
    "imap": _imap,
    "pop3": _pop3,
}


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


async def open_tls(
    host: str, port: int, options: Mapping[str, Any]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, float | None, float]:
    """Connect and complete a TLS handshake (after STARTTLS if asked).

    Return the stream and the milliseconds the TCP connect (None when it was not timed
    apart) and the TLS handshake took (after STARTTLS: with the plain-text opening).
    """
    tls = context(options)
    start = time.perf_counter()
    opening = OPENINGS.get(str(options.get("starttls", "")))
    if opening is None:  # the connect and the handshake are one step here: no connect time
        reader, writer = await asyncio.open_connection(host, port, ssl=tls, server_hostname=host)
        return reader, writer, None, _ms(start)
    reader, writer = await asyncio.open_connection(host, port)
    connect = _ms(start)
    try:
        await opening(reader, writer)
        await writer.start_tls(tls, server_hostname=host)
    except BaseException:
        writer.close()
        raise
    return reader, writer, connect, round(_ms(start) - connect, 3)
