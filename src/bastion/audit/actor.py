"""Who made a change: a person, an API token, the command line or a scheduled job."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    USER = "user"  # a person signed in to the console or the API
    TOKEN = "token"  # a machine with an API token
    CLI = "cli"  # the command line, run by whoever holds the server
    SCHEDULER = "scheduler"  # a timer or cron job acting on its own


@dataclass(frozen=True)
class Actor:
    """The actor of one change as the audit trail records it: ``user:alice``, ``cli:root``."""

    kind: ActorKind
    name: str
    ip: str = ""

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"

    @classmethod
    def cli(cls, login: str | None = None) -> Actor:
        """Return the command line's actor: ``cli:<login>`` (the OS user unless given)."""
        if not login:
            try:
                login = getpass.getuser()
            except (KeyError, OSError):  # no passwd entry and no LOGNAME: still say it was the CLI
                login = "unknown"
        return cls(ActorKind.CLI, login)

    @classmethod
    def scheduler(cls, job: str) -> Actor:
        """Return the actor of a scheduled job (``scheduler:feeds``)."""
        return cls(ActorKind.SCHEDULER, job)
