"""Tenancy: which organisations a caller may see, passed to every data-access function.

A ``Scope`` is either national (every organisation) or a fixed set of
organisation codes. Data-access functions take one and apply it in their SQL
(``scope.codes`` is what goes into ``WHERE org_code IN (...)``; ``None`` means
no restriction), so a page or route can never forget to filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bastion.core.errors import NotFoundError


class Owned(Protocol):
    """Something that belongs to one organisation (or to none: national business)."""

    @property
    def org_code(self) -> str | None: ...


OwnedT = TypeVar("OwnedT", bound=Owned)


@dataclass(frozen=True)
class Scope:
    """The organisations a caller may see: all of them (``national``) or ``orgs``."""

    national: bool = False
    orgs: frozenset[str] = frozenset()

    @classmethod
    def everything(cls) -> Scope:
        """Return the national scope: every organisation, present and future."""
        return cls(national=True)

    @classmethod
    def of(cls, codes: Iterable[str]) -> Scope:
        """Return the scope of exactly these organisation codes (none: nothing visible)."""
        return cls(national=False, orgs=frozenset(c.strip().upper() for c in codes))

    @property
    def codes(self) -> list[str] | None:
        """Return the codes to filter on, sorted; ``None`` means every organisation."""
        return None if self.national else sorted(self.orgs)

    def allows(self, code: str | None) -> bool:
        """Tell whether an object of organisation ``code`` is visible in this scope.

        An object without an organisation is national business: visible nationally only.
        """
        if self.national:
            return True
        return code is not None and code.strip().upper() in self.orgs

    def visible(self, found: OwnedT | None, missing: str) -> OwnedT:
        """Return ``found`` when it exists and this scope allows its ``org_code``; else raise
        NotFoundError saying ``missing``: what is outside the scope answers as what is not there.
        """
        if found is None or not self.allows(found.org_code):
            raise NotFoundError(missing)
        return found

    def __str__(self) -> str:
        return "national" if self.national else ",".join(sorted(self.orgs)) or "nothing"
