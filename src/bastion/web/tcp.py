"""uvicorn's httptools HTTP/1.1 protocol with Nagle's algorithm off on every connection.

uvicorn writes a response's head and its body in two writes. asyncio turns Nagle's
algorithm off only on sockets made with protocol ``IPPROTO_TCP``, and uvicorn's
listening socket is made with protocol 0, so the connections it accepts keep it on: the
body waits for the client to acknowledge the head, and a keep-alive client delays that
acknowledgement by up to 40 ms. Every request after a connection's first few then took
about 45 ms whatever its work (measured through uvicorn on loopback: 180 padded range
answers a second over 8 connections with it, 1,480 without). ``bastion serve`` runs
uvicorn with this protocol (``cli.web.uvicorn_options``).

httptools (llhttp, compiled) rather than h11 (pure Python): h11 spent about 0.4 ms of
CPU parsing a request and writing its answer, more than a padded range answer's work.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; each TCP connection sends its writes at once (TCP_NODELAY)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
