"""Service fingerprinting: what answers on an open port, by banner and protocol probe.

Services that speak first (SSH, SMTP, FTP, MySQL, VNC) are named by their banner;
for the rest one probe at a time is tried on a fresh connection, the port's usual
service first: HTTP, TLS (a handshake), Redis, RDP (X.224), PostgreSQL
(SSLRequest), SMB. The first probe that gets a recognisable answer names the service; a TLS
service is then asked whether it is HTTPS.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
import struct

from bastion.scan.checks.base import Probe, Service

RDP_REQUEST = bytes.fromhex(
    "0300002b26e00000000000436f6f6b69653a206d737473686173683d626173746e0d0a0100080003000000"
)
SMB_NEGOTIATE = bytes.fromhex(
    "00000045ff534d4272000000001853c8000000000000000000000000fffe00000000"
    "0022000253204c414e4d414e312e30000253204e54204c4d20302e313200"
)
POSTGRES_SSL = struct.pack("!II", 8, 80877103)
REDIS_PING = b"*1\r\n$4\r\nPING\r\n"
_SERVER = re.compile(rb"^server:\s*(.+?)\r?$", re.IGNORECASE | re.MULTILINE)
_PRODUCT = re.compile(r"([A-Za-z][\w .-]*?)[/ _]v?(\d+(?:\.\d+)+[\w.-]*)")
_PORT_FIRST = {
    443: "tls", 8443: "tls", 993: "tls", 995: "tls", 465: "tls", 636: "tls",
    80: "http", 8080: "http", 8000: "http", 8008: "http", 8888: "http", 9200: "http",
    6379: "redis", 3389: "rdp", 5432: "postgresql", 445: "smb", 139: "smb",
}  # fmt: skip
_PROBES = ("http", "tls", "redis", "rdp", "postgresql", "smb")


async def is_open(probe: Probe, port: int) -> bool:
    """Tell whether a TCP connection to ``port`` succeeds: the connect scan's cheap first step."""
    address = probe.target.address
    await probe.limiter.wait("packet", address, probe.config.rates.packets_per_second)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        async with asyncio.timeout(probe.config.connect_timeout):
            await asyncio.get_running_loop().sock_connect(sock, (address, port))
    except (OSError, TimeoutError):
        return False
    finally:
        sock.close()
    return True


async def exchange(
    probe: Probe, port: int, payload: bytes | None, *, wait: float, limit: int = 4096
) -> bytes | None:
    """Connect, send ``payload`` (if any), return what comes back within ``wait`` s (None: no connect)."""
    address = probe.target.address
    await probe.limiter.wait("packet", address, probe.config.rates.packets_per_second)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address, port), probe.config.connect_timeout
        )
    except (OSError, TimeoutError):
        return None
    try:
        if payload:
            writer.write(payload)
            await writer.drain()
        return await asyncio.wait_for(reader.read(limit), wait)
    except (OSError, TimeoutError):
        return b""
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def product_version(text: str) -> tuple[str | None, str | None]:
    """Split ``Apache/2.4.49 (Unix)`` or ``OpenSSH_8.2p1`` into product and version."""
    found = _PRODUCT.search(text)
    if not found:
        return (text.strip() or None), None
    return found.group(1).strip(), found.group(2)


def _from_banner(port: int, banner: bytes) -> Service | None:
    text = banner.decode("latin-1", "replace").strip()
    if text.startswith("SSH-"):
        software = text.split("-", 2)[2].split()[0] if text.count("-") >= 2 else ""
        product, version = product_version(software)
        return Service(port, "ssh", text[:200], product, version)
    if text.startswith("220"):
        name = "ftp" if "ftp" in text.lower() else "smtp"
        product, version = product_version(text[3:].strip())
        return Service(port, name, text[:200], product, version)
    if text.startswith("RFB "):
        return Service(port, "vnc", text[:200])
    if len(banner) > 5 and banner[4] == 10 and b"\x00" in banner[5:]:  # MySQL handshake v10
        version = banner[5 : banner.index(b"\x00", 5)].decode("latin-1")
        return Service(port, "mysql", text[:200], "MySQL", version)
    if banner[:1] == b"\xff":  # a Telnet option negotiation (IAC)
        return Service(port, "telnet", banner[:12].hex())
    if text.startswith("+OK"):
        return Service(port, "pop3", text[:200])
    return None


def _from_answer(port: int, kind: str, answer: bytes) -> Service | None:
    text = answer.decode("latin-1", "replace")
    if kind == "http" and text.startswith("HTTP/"):
        server = _SERVER.search(answer)
        banner = server.group(1).decode("latin-1").strip() if server else ""
        product, version = product_version(banner) if banner else (None, None)
        return Service(port, "http", text.split("\r\n", 1)[0][:200], product, version)
    if kind == "redis" and (text.startswith(("+PONG", "-NOAUTH", "-DENIED", "-ERR"))):
        return Service(port, "redis", text.strip()[:200], extra={"auth": not text.startswith("+")})
    if kind == "rdp" and answer[:2] == b"\x03\x00" and len(answer) >= 11:
        return Service(port, "rdp", answer[:19].hex())
    if kind == "postgresql" and answer[:1] in (b"S", b"N"):
        return Service(port, "postgresql", text[:1])
    if kind == "smb" and answer[4:8] in (b"\xffSMB", b"\xfeSMB"):
        return Service(port, "smb", answer[4:8].hex())
    return None


_PAYLOADS = {
    "redis": REDIS_PING,
    "rdp": RDP_REQUEST,
    "postgresql": POSTGRES_SSL,
    "smb": SMB_NEGOTIATE,
}


async def fingerprint(probe: Probe, port: int, banner: bytes) -> Service:
    """Name the service on an open ``port`` whose greeting (maybe empty) was ``banner``."""
    if banner:
        found = _from_banner(port, banner)
        if found:
            return found
    first = _PORT_FIRST.get(port)
    order = ([first] if first else []) + [k for k in _PROBES if k != first]
    wait = min(probe.config.read_timeout, 2.0)
    for kind in order:
        if kind == "tls":
            over_tls = await _over_tls(probe, port)
            if over_tls is not None:
                return over_tls
            continue
        payload = (
            _PAYLOADS.get(kind)
            or (
                f"GET / HTTP/1.0\r\nHost: {probe.target.server_name or probe.target.address}\r\n"
                f"User-Agent: {probe.config.user_agent}\r\n\r\n"
            ).encode()
        )
        answer = await exchange(probe, port, payload, wait=wait)
        if answer is None:
            break  # the port closed meanwhile
        found = _from_answer(port, kind, answer)
        if found:
            return found
    return Service(port, "unknown", banner.decode("latin-1", "replace")[:200])


async def _over_tls(probe: Probe, port: int) -> Service | None:
    """Shake hands in TLS on ``port``; on success ask whether it is HTTPS (most are)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    name = probe.target.server_name
    await probe.limiter.wait("packet", probe.target.address, probe.config.rates.packets_per_second)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(probe.target.address, port, ssl=context, server_hostname=name),
            probe.config.connect_timeout,
        )
    except (OSError, TimeoutError, ssl.SSLError):
        return None
    try:
        writer.write(
            f"HEAD / HTTP/1.0\r\nHost: {name or probe.target.address}\r\n"
            f"User-Agent: {probe.config.user_agent}\r\n\r\n".encode()
        )
        answer = await asyncio.wait_for(reader.read(4096), min(probe.config.read_timeout, 2.0))
    except (OSError, TimeoutError, ssl.SSLError):
        answer = b""
    finally:
        writer.close()
    http = _from_answer(port, "http", answer)
    if http is None:
        return Service(port, "tls", "", tls=True)
    return Service(port, "http", http.banner, http.product, http.version, tls=True)
