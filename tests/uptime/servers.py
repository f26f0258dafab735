"""Local stand-ins that probes check, all on 127.0.0.1: HTTP, TLS, STARTTLS, TCP echo and DNS."""

from __future__ import annotations

import ipaddress
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.message
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Behaviour:
    """What the HTTP stand-in answers: its status, body, headers and delay (changeable live)."""

    status: int = 200
    body: bytes = b'{"status": "ok", "db": {"up": true}}'
    headers: dict[str, str] = field(default_factory=lambda: {"X-Service": "demo"})
    delay_s: float = 0.0


@contextmanager
def http_server(behaviour: Behaviour, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``behaviour`` on 127.0.0.1 (over ``tls`` if given); yield the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if behaviour.delay_s:
                time.sleep(behaviour.delay_s)
            self.send_response(behaviour.status)
            for name, value in behaviour.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(behaviour.body)))
            self.end_headers()
            self.wfile.write(behaviour.body)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def certificate(folder: Path, days: float) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1 valid for ``days`` more; return (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Threaded(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def tls_server(folder: Path, days: float) -> Iterator[int]:
    """Serve TLS with a certificate ``days`` from expiry on 127.0.0.1; yield the port."""
    context = server_context(folder, days)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            try:
                with context.wrap_socket(self.request, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                return

    with _serving(_Threaded(("127.0.0.1", 0), Handler)) as port:
        yield port


def server_context(folder: Path, days: float) -> ssl.SSLContext:
    """Return a server context with a fresh certificate ``days`` from expiry (in ``folder``)."""
    cert, key = certificate(folder, days)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


# What a mail server says before TLS: its greeting, the command that upgrades, the go-ahead.
OPENINGS = {
    "imap": (b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", b"STARTTLS", b"OK Begin TLS"),
    "pop3": (b"+OK POP3 ready\r\n", b"STLS", b"+OK Begin TLS"),
}


@contextmanager
def starttls_server(
    context: ssl.SSLContext, protocol: str, *, refuse: bool = False
) -> Iterator[int]:
    """An IMAP or POP3 stand-in that upgrades to TLS on request (or ``refuse``s); yield the port."""
    greeting, command, go = OPENINGS[protocol]

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            try:
                self.wfile.write(greeting)
                line = self.rfile.readline()
                tag = line.split(b" ")[0] + b" " if protocol == "imap" else b""
                if command not in line.upper() or refuse:
                    self.wfile.write(tag + (b"BAD no TLS here\r\n" if tag else b"-ERR no TLS\r\n"))
                    return
                self.wfile.write(tag + go + b"\r\n")
                self.wfile.flush()
                with context.wrap_socket(self.request, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                return

    with _serving(_Threaded(("127.0.0.1", 0), Handler)) as port:
        yield port


@contextmanager
def _serving(server: socketserver.BaseServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])  # type: ignore[index]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def echo_server() -> Iterator[int]:
    """A TCP echo on 127.0.0.1 that greets with ``READY``; yield the port."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            try:
                self.request.sendall(b"READY\r\n")
                self.request.sendall(self.request.recv(1024))
            except OSError:
                return  # the probe hung up first: nothing to answer

    with _serving(_Threaded(("127.0.0.1", 0), Handler)) as port:
        yield port


@contextmanager
def dns_server(records: dict[tuple[str, str], str]) -> Iterator[int]:
    """A UDP DNS server on 127.0.0.1 answering ``(name, type) -> value``; yield the port."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data, sock = self.request
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            question = query.question[0]
            key = (question.name.to_text().rstrip("."), dns.rdatatype.to_text(question.rdtype))
            if key in records:
                reply.answer.append(
                    dns.rrset.from_text(question.name, 60, "IN", key[1], records[key])
                )
            else:
                reply.set_rcode(3)  # NXDOMAIN
            sock.sendto(reply.to_wire(), self.client_address)

    server = socketserver.ThreadingUDPServer(("127.0.0.1", 0), Handler)
    with _serving(server) as port:
        yield port
