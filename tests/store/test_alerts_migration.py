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
