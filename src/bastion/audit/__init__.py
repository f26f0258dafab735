"""The one audit trail: every state change of every context, with its actor, in one table."""

from bastion.audit.actor import Actor, ActorKind
from bastion.audit.trail import (
    EXPORT_FIELDS,
    AuditEvent,
    export_csv,
    export_json,
    list_events,
    record,
)

__all__ = [
    "EXPORT_FIELDS",
    "Actor",
    "ActorKind",
    "AuditEvent",
    "export_csv",
    "export_json",
    "list_events",
    "record",
]
