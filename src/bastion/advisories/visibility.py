"""Who may see which national cyber alert, and which organisations' responses to it.

Every reader (the API, the console, the CLI) asks here with the caller's
``Scope``. A national scope sees every alert, drafts too, and every response; a
member sees only the published alerts that reached one of its organisations, and
only those organisations' responses. Anything else is not found, exactly as an
alert that does not exist, so a member cannot learn that another's alert exists.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bastion.advisories.alerts import Alert, get_alert
from bastion.advisories.models import ActionRow, AlertRow, AlertVersionRow, ResponseRow
from bastion.advisories.responses import Response, list_responses
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope
from bastion.core.types import org_code
from bastion.store.membership import one_of
from bastion.store.paging import page_of

T = TypeVar("T")


def _visible(query: Select[T], scope: Scope) -> Select[T]:
    """Narrow a query over alerts to those ``scope`` may see."""
    if scope.codes is None:
        return query
    reached = select(ResponseRow.alert_id).where(one_of(ResponseRow.org_code, scope.codes))
    return query.where(AlertRow.status == "published", AlertRow.id.in_(reached))


def visible_alerts(
    session: Session,
    scope: Scope,
    *,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Alert], int]:
    """Return the alerts ``scope`` may see, newest first, at their current version, and how many.

    ``limit`` and ``offset`` page through them (every one without a limit); the
    count is of all the visible alerts, whatever the page.
    """
    query = _visible(select(AlertRow.ref), scope)
    if status is not None:
        query = query.where(AlertRow.status == status)
    refs, total = page_of(session, query, AlertRow.id.desc(), limit=limit, offset=offset)
    return [replace(get_alert(session, ref), versions=()) for ref in refs], total


def visible_alert(session: Session, ref: str, scope: Scope) -> Alert:
    """Return the alert with every version if ``scope`` may see it; else raise NotFoundError."""
    code = ref.strip().upper()
    query = _visible(select(AlertRow.ref).where(AlertRow.ref == code), scope)
    if session.scalar(query) is None:
        msg = f"no alert {code!r}"
        raise NotFoundError(msg)
    return get_alert(session, code)


def visible_responses(session: Session, ref: str, scope: Scope) -> list[Response]:
    """Return the responses to a visible alert of the organisations ``scope`` may see."""
    alert = visible_alert(session, ref, scope)
    return [r for r in list_responses(session, alert.ref) if scope.allows(r.organisation)]


def reached_organisations(
    session: Session, ref: str, scope: Scope, codes: list[str]
) -> tuple[Alert, list[str]]:
    """Return the visible alert and ``codes`` normalised, each one an organisation it reached.

    An alert, or an organisation, outside ``scope`` or not reached by the alert is
    not found; whether the caller may act for each organisation is its role's
    business, checked after this.
    """
    alert = visible_alert(session, ref, scope)
    wanted = list(dict.fromkeys(str(org_code(c)) for c in codes))
    reached = {r.organisation for r in visible_responses(session, alert.ref, scope)}
    missing = [c for c in wanted if c not in reached]
    if missing:
        msg = f"alert {alert.ref} did not reach {', '.join(missing)}"
        raise NotFoundError(msg)
    return alert, wanted


def action_organisation(session: Session, ref: str, action_id: int, scope: Scope) -> str:
    """Return the organisation whose response to ``ref`` holds the action, if ``scope`` sees it.

    An action of another alert, or of an organisation outside ``scope``, is not found.
    """
    alert = visible_alert(session, ref, scope)
    owner = session.execute(
        select(ResponseRow.org_code)
        .join(ActionRow, ActionRow.response_id == ResponseRow.id)
        .join(AlertRow, AlertRow.id == ResponseRow.alert_id)
        .where(ActionRow.id == action_id, AlertRow.ref == alert.ref)
    ).scalar_one_or_none()
    if owner is None or not scope.allows(owner):
        msg = f"no action {action_id} of alert {alert.ref}"
        raise NotFoundError(msg)
    return owner


@dataclass(frozen=True)
class PendingAcknowledgement:
    """A published alert one of the caller's organisations has not acknowledged yet."""

    ref: str
    title: str
    severity: str
    organisation: str
    ack_due: datetime | None


def pending_acknowledgements(
    session: Session, scope: Scope, *, limit: int = 20
) -> list[PendingAcknowledgement]:
    """Return the open responses of ``scope``'s organisations still to acknowledge, soonest due first.

    A national scope has no response of its own to give: it gets none.
    """
    if scope.codes is None or not scope.codes:
        return []
    query = (
        select(AlertRow.ref, AlertVersionRow.title, AlertVersionRow.severity, ResponseRow)
        .join(ResponseRow, ResponseRow.alert_id == AlertRow.id)
        .join(
            AlertVersionRow,
            (AlertVersionRow.alert_id == AlertRow.id)
            & (AlertVersionRow.version == AlertRow.version),
        )
        .where(
            AlertRow.status == "published",
            one_of(ResponseRow.org_code, scope.codes),
            ResponseRow.status == "open",
            ResponseRow.acknowledged_at.is_(None),
        )
        .order_by(ResponseRow.ack_due.is_(None), ResponseRow.ack_due, AlertRow.id.desc())
        .limit(limit)
    )
    return [
        PendingAcknowledgement(ref, title, severity, row.org_code, row.ack_due)
        for ref, title, severity, row in session.execute(query)
    ]
