"""One registry type for every "name → implementation" table Bastion keeps.

A registry is built once, in one module, from one explicit literal of
``(name, implementation)`` pairs — nothing registers itself when imported — so a
newcomer finds every log format, feed type or file format in one place::

    PARSERS = Registry("log format", (("cef", cef.PARSER), ("zeek", zeek.TSV_PARSER)))

Asking for a name it does not hold, or building it with one name twice, raises
``RegistryNameError``, whose message lists the valid names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from bastion.core.errors import Location, RegistryNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """An immutable table from names to implementations, in the order its literal gives."""

    def __init__(self, kind: str, entries: Iterable[tuple[str, T]]) -> None:
        """Build the registry of ``kind`` (``"log format"``); raise RegistryNameError on a repeat."""
        self.kind = kind
        table: dict[str, T] = {}
        for name, item in entries:
            if name in table:
                msg = f"{kind} {name!r} is listed twice; the {kind}s are {', '.join(table)}"
                raise RegistryNameError(msg)
            table[name] = item
        self._table = table

    def get(self, name: str, where: Location | None = None) -> T:
        """Return what ``name`` names, or raise RegistryNameError listing the valid names."""
        try:
            return self._table[name]
        except KeyError:
            msg = f"unknown {self.kind} {name!r}; choose one of {', '.join(self._table)}"
            raise RegistryNameError(msg, where) from None

    __getitem__ = get

    def names(self) -> tuple[str, ...]:
        """Return the names, in the order of the literal."""
        return tuple(self._table)

    def values(self) -> tuple[T, ...]:
        """Return the implementations, in the order of the literal."""
        return tuple(self._table.values())

    def items(self) -> tuple[tuple[str, T], ...]:
        """Return ``(name, implementation)`` pairs, in the order of the literal."""
        return tuple(self._table.items())

    def __contains__(self, name: object) -> bool:
        return name in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {', '.join(self._table)})"
