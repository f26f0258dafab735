"""One organisation's row by its id, as a scope sees it."""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope


class OwnedRow(Protocol):
    """A stored row that belongs to one organisation."""

    @property
    def org_code(self) -> str | None: ...


R = TypeVar("R", bound=OwnedRow)


def visible_row(session: Session, model: type[R], row_id: int, scope: Scope, missing: str) -> R:
    """Return ``model``'s row ``row_id`` if ``scope`` may see its organisation.

    Otherwise raise NotFoundError saying ``missing``: a row outside the scope and an
    absent one get the same answer, so ids do not tell what exists.
    """
    row = session.get(model, row_id)
    if row is None or not scope.allows(row.org_code):
        raise NotFoundError(missing)
    return row
