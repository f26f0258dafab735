"""The syslog listener: UDP and octet-counted TCP in, every line through the pipeline, none dropped."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from bastion.alerts import list_alerts
from bastion.audit import Actor
from bastion.boundary.listen import ListenerConfig, SyslogListener
from bastion.boundary.pipeline import Pipeline
from bastion.boundary.source_stats import SourceStats
from bastion.core.settings import Settings
from bastion.intel import Indicator, IndicatorType, save_indicators
from bastion.orgs import Organisation, OrgType, save_organisation
from bastion.store import Store

C2 = "203.0.113.66"


def _line(i: int, dst: str = "198.18.0.9") -> bytes:
    return (
        f'<189>date=2025-06-02 time=10:{i // 60 % 60:02d}:{i % 60:02d} devname="fw-a" devid="FGT60F" '
        f'logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" '
        f'srcip=11.0.0.{i % 250 + 1} srcport={40000 + i} srcintf="lan" dstip={dst} dstport=443 '
        f'dstintf="wan1" proto=6 service="HTTPS" action="accept" policyid=1 sentbyte=100 rcvdbyte=200'
    ).encode()


def _pipeline(store: Store, tmp_path: Path) -> Pipeline:
    with store.session() as session:
        save_organisation(
            session,
            Organisation("R0A", "Trust", OrgType.TRUST, networks=("11.0.0.0/24",)),
            actor=Actor.cli("test"),
        )
        save_indicators(
            session, [Indicator(IndicatorType.IPV4, C2, "test-feed")], actor=Actor.cli("test")
        )
    return Pipeline.open(store, Settings(data_dir=tmp_path / "data"))


def _serve(listener: SyslogListener) -> tuple[threading.Thread, list[SourceStats]]:
    result: list[SourceStats] = []
    thread = threading.Thread(target=lambda: result.append(listener.run()))
    thread.start()
    return thread, result


def _wait_received(listener: SyslogListener, count: int) -> None:
    deadline = time.monotonic() + 20
    while listener.received < count:
        assert time.monotonic() < deadline, f"received {listener.received} of {count}"
        time.sleep(0.02)


def test_udp_and_octet_counted_tcp_lines_all_reach_the_archive_and_alerts(
    sqlite_store: Store, tmp_path: Path
) -> None:
    listener = SyslogListener(
        _pipeline(sqlite_store, tmp_path),
        ListenerConfig("fortigate", udp_port=0, tcp_port=0, batch_lines=50, flush_seconds=0.1),
    )
    listener.start()
    thread, result = _serve(listener)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for i in range(100):
                udp.sendto(_line(i), ("127.0.0.1", listener.state.udp_port or 0))
                time.sleep(0.0005)
        with socket.create_connection(("127.0.0.1", listener.state.tcp_port or 0)) as tcp:
            frames = [_line(100 + i, dst=C2 if i < 3 else "198.18.0.9") for i in range(200)]
            tcp.sendall(b"".join(b"%d %s" % (len(f), f) for f in frames))
        _wait_received(listener, 300)
    finally:
        listener.stop()
        thread.join(30)
    assert result[0].events == 300
    assert result[0].rejects == 0
    with sqlite_store.session() as session:
        alerts, _ = list_alerts(session)
    # one alert per member host that reached the C2 server (lines 100-102 come from .101-.103)
    assert sorted((a.org, a.host, a.indicator_value, a.count) for a in alerts) == [
        ("R0A", f"11.0.0.{n}", C2, 1) for n in (101, 102, 103)
    ]


def test_a_full_queue_makes_tcp_senders_wait_instead_of_losing_lines(
    sqlite_store: Store, tmp_path: Path
) -> None:
    listener = SyslogListener(
        _pipeline(sqlite_store, tmp_path),
        ListenerConfig(
            "fortigate", tcp_port=0, batch_lines=100, flush_seconds=0.05, queue_lines=20
        ),
    )
    listener.start()
    thread, result = _serve(listener)
    try:
        with socket.create_connection(("127.0.0.1", listener.state.tcp_port or 0)) as tcp:
            # newline framing, and the last line ends with the connection, not a newline
            tcp.sendall(b"\n".join(_line(i) for i in range(2_000)))
        _wait_received(listener, 2_000)
    finally:
        listener.stop()
        thread.join(30)
    assert result[0].events == 2_000


def test_stop_takes_what_open_connections_and_the_udp_socket_already_hold(
    sqlite_store: Store, tmp_path: Path
) -> None:
    listener = SyslogListener(
        _pipeline(sqlite_store, tmp_path),
        ListenerConfig("fortigate", udp_port=0, tcp_port=0, batch_lines=500, flush_seconds=0.05),
    )
    listener.start()
    thread, result = _serve(listener)
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        socket.create_connection(("127.0.0.1", listener.state.tcp_port or 0)) as tcp,
    ):
        for i in range(1_000):
            udp.sendto(_line(i), ("127.0.0.1", listener.state.udp_port or 0))
        tcp.sendall(b"\n".join(_line(i) for i in range(1_000, 3_000)) + b"\n")
        # Stopped at once, the sender still connected: nothing waits for the lines to be read.
        listener.stop()
        thread.join(60)
    assert (listener.received, result[0].events, result[0].rejects) == (3_000, 3_000, 0)
    assert listener.state.committed == 3_000
    assert listener.kernel_udp_drops() == 0
