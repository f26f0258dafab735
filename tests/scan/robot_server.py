"""A TLS server with a Bleichenbacher padding oracle, as servers before the ROBOT fixes had.

It is tlslite-ng (a pure-Python TLS stack, used by tlsfuzzer) with one change: the
RSA key exchange checks the PKCS#1 v1.5 padding of the client's premaster secret
itself and answers a non-conforming one with a ``decode_error`` alert at once,
where a conforming one goes on (with a random secret if its length or version is
wrong) and fails later at the Finished message. That difference is the oracle
ROBOT looks for. It listens on 127.0.0.1 only and runs in threads of the test.
"""

from __future__ import annotations

import socket
import threading
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # tlslite's package imports asyncore
    from tlslite import tlsconnection
    from tlslite.errors import TLSDecodeError, TLSError
    from tlslite.handshakesettings import HandshakeSettings
    from tlslite.keyexchange import RSAKeyExchange
    from tlslite.tlsconnection import TLSConnection
    from tlslite.utils.cryptomath import bytesToNumber, getRandomBytes, numberToByteArray
    from tlslite.utils.keyfactory import parsePEMKey
    from tlslite.x509certchain import X509CertChain


class LeakyRsaKeyExchange(RSAKeyExchange):  # type: ignore[misc]
    """RSA key exchange that tells a bad padding apart from a good one (the ROBOT bug)."""

    def processClientKeyExchange(self, clientKeyExchange: object) -> bytearray:
        key = self.privateKey
        size = len(numberToByteArray(key.n))
        encrypted = clientKeyExchange.encryptedPreMasterSecret  # type: ignore[attr-defined]
        message = numberToByteArray(key._rawPrivateKeyOp(bytesToNumber(encrypted)), size)
        if message[:2] != b"\x00\x02" or 0 not in message[10:]:
            raise TLSDecodeError("bad PKCS#1 padding")  # the leak: an early, distinct alert
        secret = message[message.index(0, 10) + 1 :]
        return secret if len(secret) == 48 else getRandomBytes(48)


class RobotServer:
    """Serve TLS 1.2 with RSA key exchange (and the leaky padding check); ``close()`` stops it."""

    def __init__(
        self, cert: Path, key: Path, monkeypatch: pytest.MonkeyPatch, *, leaky: bool = True
    ) -> None:
        if leaky:  # else tlslite's own key exchange, which has no oracle
            monkeypatch.setattr(tlsconnection, "RSAKeyExchange", LeakyRsaKeyExchange)
        self.chain = X509CertChain()
        self.chain.parsePemList(cert.read_text())
        self.key = parsePEMKey(key.read_text(), private=True)
        self.settings = HandshakeSettings()
        self.settings.maxVersion = (3, 3)  # TLS 1.2: ROBOT is about RSA key exchange
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(client,), daemon=True).start()

    def _one(self, client: socket.socket) -> None:
        client.settimeout(5)
        connection = TLSConnection(client)
        try:
            connection.handshakeServer(
                certChain=self.chain, privateKey=self.key, settings=self.settings
            )
            connection.write(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        except (TLSError, OSError, ValueError):
            pass
        finally:
            client.close()

    def close(self) -> None:
        self.sock.close()
