"""alerts_0001 keeps the alerts already stored: blocked/live becomes the verdict, each is new."""

from __future__ import annotations

from sqlalchemy import text

from bastion.store import Store, downgrade, upgrade


def test_existing_alerts_survive_with_their_verdict_new_and_in_their_own_group(
    store: Store,
) -> None:
    downgrade(store.engine, "alerts_0001@0003")
    with store.engine.begin() as conn:
        for n, status in ((1, "live"), (2, "blocked")):
            conn.execute(
                text(
                    "INSERT INTO alerts (id, org_code, host, kind, key, title, severity, status, "
                    "retrospective, indicator_value, count, first_seen, last_seen, evidence, "
                    "created_at, updated_at) VALUES (:id, 'RAL', '10.0.0.1', 'indicator', "
                    ":key, 't', 'high', :status, false, '203.0.113.9', 1, :at, :at, '[]', :at, :at)"
                ),
                {"id": n, "key": f"ind-{n}", "status": status, "at": "2024-03-01 10:00:00+00:00"},
            )
    upgrade(store.engine)
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, verdict, state, group_id, observable FROM alerts ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, "live", "new", 1, "203.0.113.9"),
        (2, "blocked", "new", 2, "203.0.113.9"),
    ]


def test_alerts_0002_takes_acknowledged_and_closed_times_from_the_history(store: Store) -> None:
    downgrade(store.engine, "alerts_0002@alerts_0001")
    at = "2024-03-01 10:00:00+00:00"
    with store.engine.begin() as conn:
        for n in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO alerts (id, org_code, host, kind, key, title, severity, verdict, "
                    "state, retrospective, count, first_seen, last_seen, evidence, created_at, "
                    "updated_at) VALUES (:id, 'RAL', '10.0.0.1', 'rule', :key, 't', 'high', "
                    "'live', :state, false, 1, :at, :at, '[]', :at, :at)"
                ),
                {"id": n, "key": f"r-{n}", "state": "closed" if n == 1 else "new", "at": at},
            )
        for before, after, when in (
            ("new", "acknowledged", "2024-03-01 10:30:00+00:00"),
            ("acknowledged", "closed", "2024-03-01 12:00:00+00:00"),
        ):
            conn.execute(
                text(
                    "INSERT INTO alert_history (alert_id, at, actor, field, before, after) "
                    "VALUES (1, :at, 'cli:ana', 'state', :before, :after)"
                ),
                {"at": when, "before": before, "after": after},
            )
    upgrade(store.engine)
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, acknowledged_at, closed_at FROM alerts ORDER BY id")
        ).all()
    assert [(r[0], r[1] is not None, r[2] is not None) for r in rows] == [
        (1, True, True),
        (2, False, False),
    ]
    assert "10:30" in str(rows[0][1])
    assert "12:00" in str(rows[0][2])
