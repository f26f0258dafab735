"""The UDP syslog socket: its buffer, its batched reads, and the kernel's drops counted for it alone."""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from bastion.boundary.udp import open_udp, receive_blocks, socket_drops


def _send(port: int, datagrams: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in datagrams:
            sender.sendto(datagram, ("127.0.0.1", port))


def test_the_receive_buffer_is_what_was_asked_and_read_back() -> None:
    sock, granted = open_udp("127.0.0.1", 0, 1 << 20)
    with sock:
        assert granted == sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        assert granted >= 1 << 20  # root forces it past net.core.rmem_max if need be


def test_drops_are_counted_for_the_overflowing_socket_and_not_for_another() -> None:
    small, _ = open_udp("127.0.0.1", 0, 4096)  # the kernel's floor: a few datagrams fit
    roomy, _ = open_udp("127.0.0.1", 0, 1 << 20)
    with small, roomy:
        datagram = b"<14>" + b"x" * 500
        _send(small.getsockname()[1], [datagram] * 300)
        _send(roomy.getsockname()[1], [datagram] * 100)
        read = 0
        while True:
            try:
                small.recv(65535)
            except BlockingIOError:
                break
            read += 1
        drops = socket_drops(small)
        assert drops is not None
        assert drops > 0
        assert read + drops == 300  # every datagram sent was either read or counted dropped
        assert socket_drops(roomy) == 0


def test_datagrams_become_lines_one_each_whether_or_not_they_end_in_a_newline() -> None:
    sock, _ = open_udp("127.0.0.1", 0, 1 << 20)
    blocks: list[bytes] = []
    stop = threading.Event()
    reader = threading.Thread(target=receive_blocks, args=(sock, blocks.append, stop.is_set))
    reader.start()
    sent = [b"<14>one", b"<14>two\n", b"", b"<14>three\r\n", b"<14>four"]
    _send(sock.getsockname()[1], sent)
    stop.set()  # what the socket already holds is still read before the reader ends
    reader.join(10)
    sock.close()
    assert not reader.is_alive()
    assert all(block.endswith(b"\n") for block in blocks)
    assert b"".join(blocks) == b"<14>one\n<14>two\n<14>three\r\n<14>four\n"


def test_a_flood_reaches_the_reader_in_blocks_not_line_by_line() -> None:
    sock, _ = open_udp("127.0.0.1", 0, 64 << 20)
    sent = [b"<14>line %05d " % i + b"x" * 200 for i in range(20_000)]  # about 4 MB
    _send(sock.getsockname()[1], sent)
    blocks: list[bytes] = []
    receive_blocks(sock, blocks.append, lambda: True)  # stopping at once: drain and return
    sock.close()
    assert b"".join(blocks).split(b"\n") == [*sent, b""]
    assert all(block.endswith(b"\n") for block in blocks)  # no line is cut between blocks
    assert 2 <= len(blocks) <= 3  # 2 MiB a block


def test_a_buffer_the_kernel_will_not_grant_in_full_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    asked = 2**31 - 1  # Linux halves and doubles what it is asked: it grants at most INT_MAX - 1
    with caplog.at_level(logging.WARNING, logger="bastion.boundary.udp"):
        sock, granted = open_udp("127.0.0.1", 0, asked)
    sock.close()
    assert granted < asked
    [record] = caplog.records
    assert f"is {granted} bytes, less than the {asked} asked" in record.getMessage()
