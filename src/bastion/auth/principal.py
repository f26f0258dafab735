"""Who is calling: a signed-in person or an API token, with what it may do and see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bastion.audit import Actor, ActorKind
from bastion.auth.roles import ROLE_PERMISSIONS, Role
from bastion.core.errors import PermissionDenied
from bastion.core.scope import Scope


class PrincipalKind(StrEnum):
    USER = "user"
    TOKEN = "token"
    SYSTEM = "system"  # the command line, run by whoever holds the server


@dataclass(frozen=True)
class Principal:
    """The caller of one request.

    ``national_role`` covers every organisation; ``memberships`` maps each
    organisation code the caller belongs to onto its role there. A token has
    neither: its ``token_scopes`` are its permissions, at its one organisation
    (or nationally).
    """

    kind: PrincipalKind
    id: int
    name: str
    national_role: Role | None = None
    memberships: Mapping[str, Role] = field(default_factory=dict)
    token_scopes: frozenset[str] = frozenset()
    token_org: str | None = None
    ip: str = ""

    @property
    def actor(self) -> str:
        """Name the caller as the audit trail records it: ``user:alice``, ``token:3``, ``cli:root``."""
        return str(self.as_actor())

    def as_actor(self) -> Actor:
        """Return the caller as the actor of a change (the command line for a system principal)."""
        if self.kind is PrincipalKind.TOKEN:
            return Actor(ActorKind.TOKEN, str(self.id), self.ip)
        if self.kind is PrincipalKind.SYSTEM:
            return Actor(ActorKind.CLI, self.name, self.ip)
        return Actor(ActorKind.USER, self.name, self.ip)

    @property
    def national(self) -> bool:
        if self.kind is PrincipalKind.TOKEN:
            return self.token_org is None
        return self.national_role is not None or self.kind is PrincipalKind.SYSTEM

    @property
    def scope(self) -> Scope:
        """Return the organisations this caller may see."""
        if self.national:
            return Scope.everything()
        if self.kind is PrincipalKind.TOKEN:
            return Scope.of([self.token_org or ""])
        return Scope.of(self.memberships)

    @property
    def roles(self) -> list[Role]:
        found = [self.national_role] if self.national_role else []
        return found + sorted(set(self.memberships.values()) - set(found))

    def can(self, permission: str, org: str | None = None) -> bool:
        """Tell whether the caller holds ``permission`` (at ``org``, or anywhere when None)."""
        if self.kind is PrincipalKind.SYSTEM:
            return True
        if self.kind is PrincipalKind.TOKEN:
            at_org = org is None or self.token_org is None or self.token_org == org.upper()
            return permission in self.token_scopes and at_org
        if self.national_role and permission in ROLE_PERMISSIONS[self.national_role]:
            return True
        if org is not None:
            role = self.memberships.get(org.upper())
            return role is not None and permission in ROLE_PERMISSIONS[role]
        return any(permission in ROLE_PERMISSIONS[r] for r in self.memberships.values())

    def can_nationally(self, permission: str) -> bool:
        """Tell whether the caller holds ``permission`` over the whole federation."""
        if self.kind is PrincipalKind.SYSTEM:
            return True
        if self.kind is PrincipalKind.TOKEN:
            return self.token_org is None and permission in self.token_scopes
        return bool(self.national_role) and permission in ROLE_PERMISSIONS[self.national_role]  # type: ignore[index]

    def require(self, permission: str, org: str | None = None) -> None:
        """Raise PermissionDenied unless the caller holds ``permission`` (at ``org``)."""
        if not self.can(permission, org):
            where = f" at {org}" if org else ""
            msg = f"{self.actor} may not {permission.replace(':', ' ')}{where}"
            raise PermissionDenied(msg, permission=permission, org=org, caller=self.actor)


def system_principal(name: str) -> Principal:
    """Return the principal of the command line (its operator holds the database already).

    ``name`` is the operator's login; the trail records it as ``cli:<name>``.
    """
    return Principal(kind=PrincipalKind.SYSTEM, id=0, name=name)
