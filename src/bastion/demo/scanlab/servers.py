"""Small real servers on loopback for the scan lab: HTTP(S) with set answers, banners, stubs.

Every server binds a 127.0.0.0/8 address and a free port, runs in daemon threads
and stops with ``close()``. Nothing here ever connects off the machine.
"""

from __future__ import annotations

import re
import socket
import socketserver
import ssl
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.message
import dns.query

from bastion.demo.scanlab.certs import CertFiles

_JNDI = re.compile(r"\$\{jndi:(?:ldap|ldaps|dns|rmi)://([^/}:]+)")

GOOD_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _loopback(address: str) -> str:
    if not address.startswith("127."):
        msg = f"the scan lab binds only 127.0.0.0/8, not {address}"
        raise ValueError(msg)
    return address


@dataclass
class Site:
    """What an HTTP server answers: pages by path (status, headers, body), default headers."""

    pages: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    canary_dns: tuple[str, int] | None = None  # a Log4Shell stub: look up JNDI names there


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "lab"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:
            return None

        def do_GET(self) -> None:
            if site.canary_dns:
                for value in self.headers.values():
                    for name in _JNDI.findall(value):
                        _lookup(name, site.canary_dns)
            status, headers, body = site.pages.get(
                self.path.split("?")[0],
                (404, {"Content-Type": "text/html"}, b"<html>not found</html>"),
            )
            self.send_response(status)
            for name, value in {**site.headers, **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

    return Handler


def _lookup(name: str, server: tuple[str, int]) -> None:
    """Do what a vulnerable Log4j does first: resolve the JNDI host name (here: at the canary)."""
    try:
        dns.query.udp(dns.message.make_query(name, "A"), server[0], port=server[1], timeout=2)
    except Exception:
        return


class _Http(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], site: Site, context: ssl.SSLContext | None
    ) -> None:
        self.context = context
        super().__init__(address, _handler(site))

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if self.context is not None:
            try:
                request.settimeout(5)
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        try:
            super().finish_request(request, client_address)
        except (ssl.SSLError, OSError):
            return


def tls_context(
    files: CertFiles, *, tls10_only: bool = False, mozilla: bool = True
) -> ssl.SSLContext:
    """Return a server context with the certificate.

    By default it follows Mozilla's "intermediate" configuration (TLS 1.2 and 1.3,
    ECDHE with AES-GCM or ChaCha20, the P-256 curve); ``mozilla=False`` is a
    2015-era setting outside it (CBC suites, every curve OpenSSL has);
    ``tls10_only`` offers TLS 1.0 alone, with every suite.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if tls10_only:
            context.set_ciphers("ALL:@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1
        elif mozilla:
            context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20:@SECLEVEL=0")
        else:
            context.set_ciphers("ECDHE+AES:@SECLEVEL=0")
    if mozilla:
        context.set_ecdh_curve("prime256v1")  # Python offers no list; P-256 alone is in Mozilla's
    context.load_cert_chain(files.cert, files.key)
    return context


class Running:
    """A server running in a thread; ``port`` is where it listens."""

    def __init__(self, server: socketserver.BaseServer, address: str, port: int) -> None:
        self.server = server
        self.address = address
        self.port = port
        self.thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def http_server(
    address: str, site: Site, context: ssl.SSLContext | None = None, port: int = 0
) -> Running:
    """Start an HTTP (or, given a context, HTTPS) server for ``site``."""
    server = _Http((_loopback(address), port), site, context)
    return Running(server, address, server.server_address[1])


def banner_server(
    address: str, answer: Callable[[bytes], bytes | None], *, greeting: bytes = b"", port: int = 0
) -> Running:
    """Start a TCP server that sends ``greeting``, then answers each read with ``answer(data)``."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(3)
            try:
                if greeting:
                    self.request.sendall(greeting)
                while data := self.request.recv(4096):
                    reply = answer(data)
                    if reply is None:
                        return
                    self.request.sendall(reply)
            except OSError:
                return

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server((_loopback(address), port), Handler)
    return Running(server, address, server.server_address[1])


def rdp_answer(data: bytes) -> bytes | None:
    """Answer an X.224 Connection Request as an RDP server does (Connection Confirm)."""
    return bytes.fromhex("0300000b06d00000123400") if data[:2] == b"\x03\x00" else None


def redis_answer(data: bytes) -> bytes | None:
    """Answer as a Redis without a password: PING gives PONG."""
    return b"+PONG\r\n" if b"PING" in data.upper() else b"-ERR unknown command\r\n"


def ca_path(folder: Path) -> Path:
    return folder / "lab-ca.crt"
