"""A UDP syslog socket: a large receive buffer, batched reads, and the kernel's drops for it.

UDP cannot slow a sender down, so whatever the listener does not read in time
waits in the socket's kernel receive buffer, and what does not fit there is
dropped by the kernel. Three things keep that rare and visible:

- the buffer is made as large as asked: ``SO_RCVBUFFORCE`` (which may exceed
  ``net.core.rmem_max``, for a process with CAP_NET_ADMIN), else ``SO_RCVBUF``
  (capped at ``rmem_max``); the size the kernel granted is read back and a
  warning logged when it is less than asked;
- one thread reads datagrams in a tight loop into a preallocated buffer and
  hands them on as one block of lines per wake-up (or per 2 MiB), never one
  queue operation per line;
- the socket's own drop counter (``/proc/net/udp``, the row with the socket's
  inode) is read, so a report says what was lost on this socket, not on the host.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import socket
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

MAX_DATAGRAM = 65535
# Linux's SO_RCVBUFFORCE (asm-generic/socket.h); Python's socket module does not name it.
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
# Bytes read before handing a block on, so a flood still reaches the pipeline in steps.
BLOCK_BYTES = 2 << 20
NEWLINE = 0x0A
_PROC_TABLES = (Path("/proc/net/udp"), Path("/proc/net/udp6"))


def open_udp(host: str, port: int, buffer_bytes: int) -> tuple[socket.socket, int]:
    """Bind a non-blocking UDP socket with a receive buffer of ``buffer_bytes``.

    Return the socket and the buffer size the kernel granted (Linux reports twice
    the size asked, its bookkeeping overhead included). Log a warning when the
    kernel granted less than asked.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((host, port))
    sock.setblocking(False)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, buffer_bytes)
        why = "the kernel's own ceiling"
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOPROTOOPT, errno.EINVAL):
            raise
        # Without CAP_NET_ADMIN the kernel caps the buffer at net.core.rmem_max.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_bytes)
        why = "net.core.rmem_max (raise it with sysctl, or run with CAP_NET_ADMIN)"
    granted: int = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if granted < buffer_bytes:
        log.warning(
            "UDP receive buffer on %s:%d is %d bytes, less than the %d asked: capped at %s; "
            "a burst the listener cannot read in time is dropped by the kernel",
            host,
            sock.getsockname()[1],
            granted,
            buffer_bytes,
            why,
        )
    return sock, granted


def socket_drops(sock: socket.socket) -> int | None:
    """Return how many datagrams the kernel dropped on ``sock`` (None when it does not say).

    The row of ``/proc/net/udp`` (or ``udp6``) whose inode is the socket's carries
    the count in its last column.
    """
    try:
        inode = str(os.fstat(sock.fileno()).st_ino)
    except OSError:
        return None
    for table in _PROC_TABLES:
        try:
            text = table.read_text(encoding="ascii")
        except OSError:
            continue
        for row in text.splitlines()[1:]:
            fields = row.split()
            # sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
            if len(fields) >= 13 and fields[9] == inode:
                return int(fields[-1])
    return None


def receive_blocks(
    sock: socket.socket,
    put: Callable[[bytes], None],
    stopping: Callable[[], bool],
    drain_seconds: float = 5.0,
) -> None:
    """Read datagrams until ``stopping()``, handing ``put`` one block of lines per wake-up.

    Each datagram is one line of the block (a trailing newline of its own is not
    doubled). Once stopping, what the kernel already holds for the socket is read
    too, for at most ``drain_seconds`` (a sender that never pauses cannot keep the
    listener from stopping), and then the function returns.
    """
    # Datagrams land back to back in one preallocated buffer, each followed by a
    # newline: no bytes object per datagram, one copy per block.
    buffer = bytearray(BLOCK_BYTES + MAX_DATAGRAM + 1)
    view = memoryview(buffer)
    receive = sock.recv_into
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    drain_until: float | None = None
    while True:
        if drain_until is None and stopping():
            drain_until = time.monotonic() + drain_seconds
        end = 0
        while end < BLOCK_BYTES:  # the hot loop: one system call per datagram
            try:
                size = receive(view[end:], MAX_DATAGRAM)
            except BlockingIOError:
                break
            if size:
                end += size
                if buffer[end - 1] != NEWLINE:
                    buffer[end] = NEWLINE
                    end += 1
        if end:
            put(view[:end].tobytes())
            if drain_until is None or time.monotonic() < drain_until:
                continue
        if drain_until is not None:
            return
        poller.poll(200)
