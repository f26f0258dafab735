"""Syslog over TLS (RFC 5425) with client certificates: a signed sender's lines all arrive;
a sender without a certificate, or with one another authority signed, gets nothing in."""

from __future__ import annotations

import contextlib
import socket
import ssl
from pathlib import Path

import pytest
from tests.boundary.test_listen import _line, _pipeline, _serve, _wait_received

from bastion.boundary.listen import ListenerConfig, SyslogListener, tls_context
from bastion.core.errors import InputError
from bastion.demo.scanlab.certs import CertFiles, LabCa
from bastion.store import Store


def _client(ca: LabCa, cert: CertFiles | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca.ca_file)
    if cert is not None:
        context.load_cert_chain(cert.cert, cert.key)
    return context


def _send(port: int, context: ssl.SSLContext, frames: list[bytes]) -> None:
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"".join(b"%d %s" % (len(f), f) for f in frames))
        tls.unwrap()  # close_notify, as RFC 5425 asks of a sender that is done


def test_tls_syslog_takes_only_senders_with_a_certificate_its_ca_signed(
    sqlite_store: Store, tmp_path: Path
) -> None:
    ca, stranger = LabCa(tmp_path / "ca"), LabCa(tmp_path / "other-ca")
    server = ca.leaf("server", "localhost")
    context = tls_context(server.cert, server.key, client_ca=ca.ca_file)
    listener = SyslogListener(
        _pipeline(sqlite_store, tmp_path),
        ListenerConfig("fortigate", tcp_port=0, batch_lines=100, flush_seconds=0.1, tls=context),
    )
    listener.start()
    thread, result = _serve(listener)
    port = listener.state.tcp_port or 0
    try:
        _send(
            port, _client(ca, ca.leaf("fw-a", "fw-a", client=True)), [_line(i) for i in range(500)]
        )
        _wait_received(listener, 500)
        for refused in (None, stranger.leaf("fw-x", "fw-x", client=True)):
            # Under TLS 1.3 the sender learns of its refusal only when it next reads.
            with contextlib.suppress(ssl.SSLError, OSError):
                _send(port, _client(ca, refused), [_line(i) for i in range(500, 510)])
    finally:
        listener.stop()
        thread.join(30)
    assert result[0].events == 500
    assert listener.received == 500
    failures = [e for e in listener.state.framing_errors if "TLS handshake failed" in e]
    assert len(failures) == 2


def test_a_missing_certificate_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot use the TLS certificate"):
        tls_context(tmp_path / "absent.crt", tmp_path / "absent.key")
