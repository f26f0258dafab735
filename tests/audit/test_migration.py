"""The migration that folds the advisories' own audit table into the one trail, both ways."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import inspect, text

from bastion import audit
from bastion.store import Store, downgrade, upgrade

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OLD_ROWS = [
    # (actor, action, entity, entity_id, after)
    ("alice", "alert.draft", "alert", "CC-0001", {"title": "Log4Shell"}),
    ("user:bob", "response.acknowledge", "response", "CC-0001/RAL", {"status": "open"}),
    ("feed:osv", "intel.import", "intel", "https://osv.example/a.json", None),
    ("cli", "inventory.import", "inventory", "RJ1/pas.cdx.json", {"components": 3}),
]


def insert_old_rows(store: Store) -> None:
    with store.engine.begin() as conn:
        for actor, action, entity, entity_id, after in OLD_ROWS:
            conn.execute(
                text(
                    "INSERT INTO adv_audit (at, actor, action, entity, entity_id, before, after) "
                    "VALUES (:at, :actor, :action, :entity, :entity_id, NULL, :after)"
                ),
                {
                    "at": AT.replace(tzinfo=None) if store.engine.dialect.name == "sqlite" else AT,
                    "actor": actor,
                    "action": action,
                    "entity": entity,
                    "entity_id": entity_id,
                    "after": json.dumps(after) if after is not None else None,
                },
            )


def test_advisories_audit_rows_move_into_the_one_trail_and_back(store: Store) -> None:
    downgrade(store.engine, "advisories_0001")  # just before the one trail
    assert inspect(store.engine).has_table("adv_audit")
    insert_old_rows(store)
    upgrade(store.engine)
    assert not inspect(store.engine).has_table("adv_audit")
    with store.session() as session:
        events, total = audit.list_events(session)
    moved = [(e.actor, e.action, e.target, e.org, e.after) for e in reversed(events)]
    assert total == 4
    assert moved == [
        ("cli:alice", "alert.draft", "alert:CC-0001", None, {"title": "Log4Shell"}),
        ("user:bob", "response.acknowledge", "response:CC-0001/RAL", "RAL", {"status": "open"}),
        ("feed:osv", "intel.import", "intel:https://osv.example/a.json", None, None),
        ("cli:cli", "inventory.import", "inventory:RJ1/pas.cdx.json", "RJ1", {"components": 3}),
    ]
    assert {e.at for e in events} == {AT}

    downgrade(store.engine, "advisories_0001")
    with store.engine.connect() as conn:
        back = conn.execute(
            text("SELECT actor, action, entity, entity_id FROM adv_audit ORDER BY id")
        ).all()
    assert [tuple(r) for r in back] == [
        ("cli:alice", "alert.draft", "alert", "CC-0001"),
        ("user:bob", "response.acknowledge", "response", "CC-0001/RAL"),
        ("feed:osv", "intel.import", "intel", "https://osv.example/a.json"),
        ("cli:cli", "inventory.import", "inventory", "RJ1/pas.cdx.json"),
    ]
    upgrade(store.engine)  # up again: the trail is append-only, and nothing is added twice
    with store.session() as session:
        assert audit.list_events(session)[1] == 4
