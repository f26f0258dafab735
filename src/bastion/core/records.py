"""Domain records from stored rows: build one from a row, or say which one is missing."""

from __future__ import annotations

from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from bastion.core.errors import NotFoundError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


@cache
def _field_names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.init)


def from_row(cls: type[R], row: object, **values: Any) -> R:
    """Return a ``cls`` whose fields are ``row``'s attributes of the same names.

    ``values`` give the fields that are not copied as they are: renamed
    (``org=row.org_code``), converted (``severity=Severity(row.severity)``) or
    computed. A field with neither raises AttributeError naming it.
    """
    copied = {name: getattr(row, name) for name in _field_names(cls) if name not in values}
    return cls(**copied, **values)


T = TypeVar("T")


def must_exist(found: T | None, missing: str) -> T:
    """Return ``found``; when it is None, raise NotFoundError saying ``missing``."""
    if found is None:
        raise NotFoundError(missing)
    return found
