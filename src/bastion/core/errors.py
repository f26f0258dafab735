"""The one exception hierarchy of Bastion.

Every error Bastion raises on purpose derives from ``BastionError``; the CLI
prints its message on one line and exits non-zero, the API answers it with a
4xx. Messages say what was wrong, where, and what to do.

    BastionError
    ├── ConfigError          a setting is missing or invalid
    ├── InputError           bad input data: a file, a line, a field
    │   ├── FormatError      input that is not in the format it claims
    │   ├── LimitExceeded    input larger or more deeply nested than Bastion reads
    │   └── RegistryNameError a name no registry entry has, or a registry literal lists twice
    ├── NotFoundError        the object asked for does not exist (or is not yours)
    ├── ConflictError        the change clashes with what is stored (duplicate code)
    ├── PermissionDenied     the caller may not do this
    ├── StoreError           the database is unreachable or not migrated
    └── FetchError           an outbound GET failed: unreachable, timed out, error status, too large
"""

from __future__ import annotations

from dataclasses import dataclass


class BastionError(Exception):
    """Base of every error Bastion raises on purpose."""

    exit_code = 1
    http_status = 400


@dataclass(frozen=True)
class Location:
    """Where in the input something went wrong: file, line and field, each optional."""

    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)


class ConfigError(BastionError):
    """A setting is missing or invalid."""

    exit_code = 2


class InputError(BastionError):
    """Input data is wrong; carries where it is wrong."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.reason = message
        self.location = location or Location()
        where = str(self.location)
        super().__init__(f"{where}: {message}" if where else message)


class FormatError(InputError):
    """Input is not in the format it claims to be."""


class LimitExceeded(InputError):
    """Input is larger, or nested more deeply, than Bastion reads."""

    http_status = 413


class RegistryNameError(InputError):
    """A name a registry does not hold was asked for, or its literal lists a name twice."""


class NotFoundError(BastionError):
    """The object asked for does not exist, or is not visible to the caller."""

    http_status = 404


class ConflictError(BastionError):
    """The change clashes with what is already stored."""

    http_status = 409


class PermissionDenied(BastionError):
    """The caller may not do this.

    Raised for a missing permission, it names it (``users:read``), where it was
    needed (an organisation's code, or nationally), and the caller, so that each
    surface can say it to its own reader; the message is for the command line.
    """

    http_status = 403

    def __init__(
        self,
        message: str,
        *,
        permission: str | None = None,
        org: str | None = None,
        national: bool = False,
        caller: str | None = None,
    ) -> None:
        super().__init__(message)
        self.permission = permission
        self.org = org
        self.national = national
        self.caller = caller


class StoreError(BastionError):
    """The database is unreachable, or its schema is not migrated."""

    http_status = 503


class FetchError(BastionError):
    """An outbound GET failed as a whole; ``status`` is the remote server's answer, if any."""

    http_status = 502  # Bastion's own answer: the server it asked failed it

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.reason = message
        self.status = status
