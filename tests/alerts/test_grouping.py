from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from tests.alerts.test_store import hits

from bastion.alerts import list_alerts, record_alerts, triage
from bastion.audit import Actor
from bastion.core.errors import ConflictError
from bastion.store import Store

SCANNER = "198.51.100.23"


def _scan(minute: int, kind: str, key: str, **more: object) -> pl.DataFrame:
    return hits(minute, kind=kind, key=key, observable=SCANNER, **more)


def _groups(store: Store) -> dict[str, int | None]:
    with store.session() as session:
        return {a.key: a.group_id for a in list_alerts(session)[0]}


def test_indicator_builtin_and_sigma_alerts_of_one_scan_are_one_group(store: Store) -> None:
    frame = pl.concat(
        [
            _scan(0, "indicator", "ipv4:" + SCANNER, **{"indicator.value": SCANNER}),
            _scan(1, "rule", "builtin:port-scan:" + SCANNER, **{"indicator.value": None}),
            _scan(2, "rule", "sigma:scan {}", **{"indicator.value": None}),
            # the same scanner at another host, and another scanner at this host: groups apart
            _scan(1, "rule", "builtin:port-scan:other-host", **{"host.ip": "10.1.0.6"}),
            # (another event: not the line at offset 1000 the scan's alerts share)
            hits(
                1,
                kind="rule",
                key="builtin:port-scan:203.0.113.1",
                observable="203.0.113.1",
                **{"log.offset": 77},
            ),
        ]
    )
    with store.session() as session:
        record_alerts(session, frame)
    groups = _groups(store)
    scan = {groups["ipv4:" + SCANNER], groups["builtin:port-scan:" + SCANNER]}
    assert scan == {groups["sigma:scan {}"]}
    assert len(set(groups.values())) == 3
    # a later batch within the window joins the stored group; one beyond it starts a new one
    with store.session() as session:
        record_alerts(session, _scan(50, "rule", "sigma:other", **{"indicator.value": None}))
        record_alerts(
            session,
            _scan(300, "rule", "sigma:late", **{"indicator.value": None}),
            group_window=timedelta(minutes=30),
        )
    groups = _groups(store)
    assert groups["sigma:other"] in scan
    assert groups["sigma:late"] not in scan


def test_split_moves_one_alert_out_and_the_rest_keep_a_group(store: Store) -> None:
    frame = pl.concat(
        [
            _scan(0, "indicator", "ipv4:" + SCANNER),
            _scan(1, "rule", "builtin:port-scan:" + SCANNER),
            _scan(2, "rule", "sigma:scan {}"),
        ]
    )
    with store.session() as session:
        record_alerts(session, frame)
        ids = {a.key: a.id for a in list_alerts(session)[0]}
    first = ids["ipv4:" + SCANNER]
    with store.session() as session:  # the alert the group is named after
        moved = triage.split(session, Actor.cli("ana"), first, reason="not the same scan")
        changes = triage.history(session, first)
    assert moved.group_id == first
    groups = _groups(store)
    rest = {groups["builtin:port-scan:" + SCANNER], groups["sigma:scan {}"]}
    assert rest == {ids["builtin:port-scan:" + SCANNER]}
    assert [(c.field, c.before, c.after, c.reason) for c in changes] == [
        ("group", str(first), str(first), "not the same scan")
    ]
    with store.session() as session, pytest.raises(ConflictError, match="alone"):
        triage.split(session, Actor.cli("ana"), first)
