"""Returns through the service: open, autosave, review, plan, publish and republish with a diff."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DatabaseError
from tests.assure.conftest import ACTOR, EVERYTHING

from bastion.assure.models import ActionRow, ReturnVersionRow
from bastion.assure.returns import open_return, publish, update_return, versions, view, visible_row
from bastion.assure.reviews import add_action, assign_review, plan, review_return, set_action
from bastion.audit.models import AuditRow
from bastion.core.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from bastion.core.scope import Scope
from bastion.store import Store

RAL = Scope.of(["RAL"])


def all_mandatory(session, return_id: int) -> dict[str, bool | None]:  # type: ignore[no-untyped-def]
    row = view(session, visible_row(session, return_id, EVERYTHING))
    return {s.id: s.category == "mandatory" for o in row.outcomes for s in o.statements}


def test_draft_to_published_through_independent_review(federation: Store) -> None:
    with federation.session() as session:
        opened = open_return(session, "RAL", "2024-25", "dspt", actor=ACTOR, scope=RAL)
        assert (opened.state, opened.profile, opened.deadline) == (
            "draft",
            "enhanced",
            date(2025, 6, 30),
        )
        assert opened.progress == 0.0
        answers = all_mandatory(session, opened.id)
        saved = update_return(
            session, opened.id, actor=ACTOR, scope=RAL, answers=answers,
            comments={"9.1": {"text": "ASA pair", "alternative": "deny-all at the NHS boundary"}},
            owners={"9": "CISO"}, evidence={"9": ["https://bastion.example/alerts?org=RAL"]},
        )  # fmt: skip
        assert saved.progress == 1.0
        assert saved.working_status == "Standards Met"
        nine = next(o for o in saved.outcomes if o.id == "9")
        assert (nine.owner, nine.evidence[0][-7:], nine.statements[0].alternative[:4]) == (
            "CISO",
            "org=RAL",
            "deny",
        )
        assign_review(session, opened.id, "independent", "auditor-ann", actor=ACTOR, scope=RAL)
        with pytest.raises(ConflictError, match="independent"):
            publish(session, opened.id, actor=ACTOR, scope=RAL)
        with pytest.raises(PermissionDenied):
            review_return(
                session,
                opened.id,
                "independent",
                reviewer="mallory",
                actor=ACTOR,
                state="completed",
            )
        # The reviewer sees the return although it is not in their scope, and comments.
        assert visible_row(session, opened.id, Scope.of([]), "auditor-ann").id == opened.id
        with pytest.raises(NotFoundError):
            visible_row(session, opened.id, Scope.of([]), "someone-else")
        review_return(session, opened.id, "independent", reviewer="auditor-ann", actor=ACTOR,
                      state="needs clarification", outcome="9", comment="Which boundary?")  # fmt: skip
        done = review_return(
            session,
            opened.id,
            "independent",
            reviewer="auditor-ann",
            actor=ACTOR,
            state="completed",
        )
        assert done.reviews[0].comments["9"][0]["text"] == "Which boundary?"
        published = publish(session, opened.id, actor=ACTOR, scope=RAL)
        assert (published.state, published.version, published.status) == (
            "published",
            1,
            "Standards Met",
        )
        assert all(o.published == "Met" for o in published.outcomes)
        with pytest.raises(ConflictError, match="unchanged"):
            publish(session, opened.id, actor=ACTOR, scope=RAL)
        # Amend: a mandatory item is no longer met; a plan makes it Approaching Standards.
        amended = update_return(session, opened.id, actor=ACTOR, scope=RAL, answers={"8.2": False})
        assert (amended.state, amended.status) == ("draft", "Standards Met")
        add_action(
            session,
            opened.id,
            "8",
            "Patch within 14 days",
            "IT lead",
            date(2025, 3, 1),
            actor=ACTOR,
            scope=RAL,
        )
        second = publish(session, opened.id, actor=ACTOR, scope=RAL)
        assert (second.version, second.status) == (2, "Approaching Standards")
        history = versions(session, opened.id, RAL)
        assert history[1]["diff"]["answers"] == [{"statement": "8.2", "from": "1", "to": "0"}]
        assert history[1]["diff"]["outcomes"] == [{"outcome": "8", "from": "Met", "to": "Not met"}]
        actions = session.scalars(
            select(AuditRow.action).where(AuditRow.target == f"return:{opened.id}")
        ).all()
        assert actions.count("assure.return.publish") == 2
        assert "assure.review.update" in actions


def test_a_published_version_is_never_changed(federation: Store) -> None:
    with federation.session() as session:
        opened = open_return(session, "RKE", "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
        publish(session, opened.id, actor=ACTOR, scope=EVERYTHING)
    with federation.session() as session, pytest.raises(DatabaseError, match="never changed"):
        session.execute(update(ReturnVersionRow).values(status="Standards Met"))


def test_the_next_period_inherits_open_actions(federation: Store) -> None:
    with federation.session() as session:
        first = open_return(session, "RAL", "2023-24", "dspt", actor=ACTOR, scope=RAL)
        add_action(
            session,
            first.id,
            "3",
            "Train the board",
            "DPO",
            date(2024, 5, 1),
            actor=ACTOR,
            scope=RAL,
        )
        add_action(
            session, first.id, "7", "Test restores", "IT", date(2024, 5, 1), actor=ACTOR, scope=RAL
        )
        done = session.scalars(select(ActionRow.id).where(ActionRow.outcome == "7")).one()
        set_action(session, done, "done", actor=ACTOR, scope=RAL)
        second = open_return(session, "RAL", "2024-25", "dspt", actor=ACTOR, scope=RAL)
        inherited = plan(session, second.id, RAL)
        assert [(a.text, a.inherited_from is not None) for a in inherited] == [
            ("Train the board", True)
        ]
        assert session.scalar(select(func.count()).select_from(ActionRow)) == 3


def test_a_gp_practice_is_not_asked_the_enhanced_outcome(federation: Store) -> None:
    with federation.session() as session:
        gp = open_return(session, "F83001", "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
        five = next(o for o in gp.outcomes if o.id == "5")
        assert (gp.profile, five.required, five.meets) == ("baseline", None, True)
        assert next(o for o in gp.outcomes if o.id == "1").meets is False


def test_bad_input_is_refused(federation: Store) -> None:
    with federation.session() as session:
        opened = open_return(session, "RAL", "2024-25", "dspt", actor=ACTOR, scope=RAL)
        with pytest.raises(InputError, match="no statement 'Z9'"):
            update_return(session, opened.id, actor=ACTOR, scope=RAL, answers={"Z9": True})
        with pytest.raises(InputError, match="YYYY-YY"):
            open_return(session, "RAL", "2024", "dspt", actor=ACTOR, scope=RAL)
        with pytest.raises(NotFoundError):
            update_return(session, opened.id, actor=ACTOR, scope=Scope.of(["RKE"]), answers={})
        with pytest.raises(ConflictError, match="already has"):
            open_return(session, "RAL", "2024-25", "dspt@2024-25", actor=ACTOR, scope=RAL)
