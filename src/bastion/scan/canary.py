"""The out-of-band canary: a DNS listener that notes every lookup of a canary name.

A check plants ``${jndi:ldap://<token>.<canary domain>/a}`` in a request; a server
with Log4Shell looks the name up, and the lookup reaches this listener (the
canary domain's authoritative server), which records the token. Run it with
``bastion scan canary --dns 127.0.0.1:5353``; it answers every query with
NXDOMAIN, so nothing is ever fetched from it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import dns.flags
import dns.message
import dns.rcode

TOKEN_BYTES = 8


def new_token() -> str:
    """Return a fresh canary token (16 hex digits: a DNS label)."""
    return secrets.token_hex(TOKEN_BYTES)


def split_address(text: str, default_port: int = 53) -> tuple[str, int]:
    """Read ``host:port`` (or a bare host) into its parts."""
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    return (host or text), int(port) if port else default_port


@dataclass(frozen=True)
class Hit:
    token: str
    qname: str
    source: str


def token_of(qname: str, domain: str) -> str | None:
    """Return the canary token a queried name carries under ``domain``, if any."""
    name = qname.lower().rstrip(".")
    suffix = "." + domain.lower().strip(".")
    if not name.endswith(suffix):
        return None
    first = name[: -len(suffix)].split(".")[-1]
    return (
        first
        if len(first) == TOKEN_BYTES * 2 and all(c in "0123456789abcdef" for c in first)
        else None
    )


class CanaryProtocol(asyncio.DatagramProtocol):
    """Answer DNS queries with NXDOMAIN, and report each canary name asked for."""

    def __init__(self, domain: str, on_hit: Callable[[Hit], None]) -> None:
        self.domain = domain
        self.on_hit = on_hit
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return
        for question in query.question:
            qname = question.name.to_text()
            token = token_of(qname, self.domain)
            if token:
                self.on_hit(Hit(token, qname.rstrip("."), str(addr[0])))
        reply = dns.message.make_response(query)
        reply.set_rcode(dns.rcode.NXDOMAIN)
        reply.flags |= dns.flags.AA
        if self.transport is not None:
            self.transport.sendto(reply.to_wire(), addr)


async def listen(
    address: str, domain: str, on_hit: Callable[[Hit], None]
) -> asyncio.DatagramTransport:
    """Start the listener on ``host:port``; return its transport (close it to stop)."""
    host, port = split_address(address)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: CanaryProtocol(domain, on_hit), local_addr=(host, port)
    )
    return transport
