"""Who the trail says made a change: every kind of caller names itself one way."""

from __future__ import annotations

import getpass

from bastion import audit, auth, orgs
from bastion.audit import Actor, ActorKind
from bastion.auth import Principal, PrincipalKind
from bastion.store import Store


def test_each_kind_of_caller_is_named_as_kind_and_name() -> None:
    person = Principal(kind=PrincipalKind.USER, id=7, name="alice", ip="192.0.2.1")
    token = Principal(kind=PrincipalKind.TOKEN, id=3, name="siem export", ip="192.0.2.2")
    assert person.as_actor() == Actor(ActorKind.USER, "alice", "192.0.2.1")
    assert str(token.as_actor()) == token.actor == "token:3"
    assert str(auth.system_principal("root").as_actor()) == "cli:root"
    assert str(Actor.cli()) == f"cli:{getpass.getuser()}"
    assert str(Actor.scheduler("feeds")) == "scheduler:feeds"


def test_an_event_keeps_its_actor_address_and_organisation(sqlite_store: Store) -> None:
    caller = Actor(ActorKind.USER, "alice", "192.0.2.1")
    with sqlite_store.session() as session:
        orgs.save_organisation(
            session, orgs.Organisation("RAL", "Royal Free", orgs.OrgType.TRUST), actor=caller
        )
        orgs.add_network(session, "ral", "10.20.0.0/16", actor=caller)
    with sqlite_store.session() as session:
        [added], total = audit.list_events(session, action="organisation.network_add")
        [created], _ = audit.list_events(
            session, target="organisation:RAL", action="organisation.create"
        )
    assert total == 1
    assert (added.actor, added.actor_ip, added.org) == ("user:alice", "192.0.2.1", "RAL")
    assert (added.before, added.after) == ({"networks": []}, {"networks": ["10.20.0.0/16"]})
    assert created.after is not None
    assert created.after["name"] == "Royal Free"
