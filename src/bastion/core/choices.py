"""Closed sets of values that people type: one parser, one error naming the valid values."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, ClassVar, Self

from bastion.core.errors import InputError, Location

_SEPARATORS = re.compile(r"[\s\-]+")


class Choice(StrEnum):
    """A string enum whose ``parse`` forgives case, spaces and hyphens (``Org-Lead`` is ``org_lead``).

    A subclass names what it is for the error, and the input field it comes from
    when there is one: ``class Role(Choice, what="role")``. Synonyms go in the
    enum's own ``_missing_``.
    """

    what: ClassVar[str]
    field: ClassVar[str | None]

    def __init_subclass__(cls, *, what: str = "", field: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.what = what or cls.__name__.lower()
        cls.field = field

    @classmethod
    def parse(cls, value: str) -> Self:
        """Return the member named ``value``, or raise InputError listing the valid values."""
        try:
            return cls(_SEPARATORS.sub("_", value.strip().lower()))
        except ValueError:
            choices = ", ".join(member.value for member in cls)
            msg = f"unknown {cls.what} {value!r}; choose one of {choices}"
            raise InputError(msg, Location(field=cls.field)) from None
