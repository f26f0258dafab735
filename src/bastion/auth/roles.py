"""Roles and the permissions each grants.

A permission is ``<context>:<read|write>`` (``users:write``, ``audit:read``):
the same strings scope an API token, so a token can never be given more than
the words a role is made of.
"""

from __future__ import annotations

from bastion.core.choices import Choice
from bastion.core.errors import InputError

# Contexts whose routes check a permission; a context that adds routes adds its name here.
CONTEXTS = (
    "orgs",
    "alerts",
    "intel",
    "detect",
    "advisories",
    "cases",
    "users",
    "audit",
    "events",
    "hunt",
    "passwords",
    "uptime",
    "assure",
    "scan",
    "behaviour",
)
ACTIONS = ("read", "write")
PERMISSIONS = frozenset(f"{c}:{a}" for c in CONTEXTS for a in ACTIONS)


class Role(Choice):
    """What a person may do: national roles cover every organisation, member roles one each."""

    NATIONAL_ADMIN = "national_admin"  # users, organisations, settings
    NATIONAL_ANALYST = "national_analyst"  # every organisation's data; responds, triages
    AUDITOR = "auditor"  # read-only, every organisation, and the audit trail
    ORG_LEAD = "org_lead"  # its organisation: respond to alerts, manage networks and hosts
    ORG_VIEWER = "org_viewer"  # its organisation, read-only

    @property
    def national(self) -> bool:
        return self in NATIONAL_ROLES

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


NATIONAL_ROLES = frozenset({Role.NATIONAL_ADMIN, Role.NATIONAL_ANALYST, Role.AUDITOR})
MEMBER_ROLES = frozenset({Role.ORG_LEAD, Role.ORG_VIEWER})

ROLE_LABELS = {
    Role.NATIONAL_ADMIN: "National administrator",
    Role.NATIONAL_ANALYST: "National analyst",
    Role.AUDITOR: "Auditor",
    Role.ORG_LEAD: "Organisation security lead",
    Role.ORG_VIEWER: "Organisation viewer",
}

# Free SQL over the whole archive (``hunt``) is the national analysts' alone: members
# search their own organisation's events through ``events``, with filters.
_READ_ALL = frozenset(f"{c}:read" for c in CONTEXTS if c not in {"users", "audit", "hunt"})

# Members hold no intel permission: indicators and feeds are national data, and an
# indicator's sightings name every organisation it hit (see bastion.web.api.intel).
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.NATIONAL_ADMIN: PERMISSIONS,
    Role.NATIONAL_ANALYST: _READ_ALL
    | {
        "alerts:write",
        "intel:write",
        "detect:write",
        "advisories:write",
        "cases:write",
        "assure:write",
        "scan:write",
        "behaviour:write",
        "hunt:read",
        "hunt:write",
        "uptime:write",
    },
    Role.AUDITOR: _READ_ALL | {"audit:read", "users:read"},
    # A lead may switch a detection rule off for its own organisation (``detect:write`` at
    # it); switching a rule for everyone takes the permission nationally.
    Role.ORG_LEAD: frozenset(
        {"orgs:read", "orgs:write", "alerts:read", "alerts:write", "advisories:read"}
        | {"advisories:write", "detect:read", "detect:write", "cases:read", "cases:write"}
        | {"events:read", "passwords:read", "passwords:write", "uptime:read", "uptime:write"}
        | {"assure:read", "assure:write", "scan:read", "scan:write"}
        | {"behaviour:read", "behaviour:write"}
    ),
    Role.ORG_VIEWER: frozenset(
        {"orgs:read", "alerts:read", "advisories:read", "detect:read", "cases:read", "events:read"}
        | {"passwords:read", "uptime:read", "assure:read", "scan:read", "behaviour:read"}
    ),
}


def parse_permissions(values: list[str]) -> frozenset[str]:
    """Check token scopes such as ``alerts:read``; raise InputError naming the first unknown one."""
    wanted = {v.strip().lower() for v in values if v.strip()}
    unknown = sorted(wanted - PERMISSIONS)
    if unknown:
        msg = (
            f"unknown scope {unknown[0]!r}; scopes are <context>:read or <context>:write with "
            f"context one of {', '.join(CONTEXTS)}"
        )
        raise InputError(msg)
    if not wanted:
        msg = "a token needs at least one scope, e.g. alerts:read"
        raise InputError(msg)
    return frozenset(wanted)
