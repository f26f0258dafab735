"""Live-service availability: monitors, probes from vantage points, SLOs, burn-rate alerts."""

from bastion.uptime.agent import Agent, AgentStats, agent_name
from bastion.uptime.centre import Centre, CycleReport
from bastion.uptime.domain import (
    Maintenance,
    Monitor,
    MonitorKind,
    ProbeResult,
    Repeat,
    Timings,
    host_of,
    maintenance,
    monitor,
)
from bastion.uptime.history import History
from bastion.uptime.incidents import (
    Impact,
    Incident,
    IncidentStatus,
    get_incident,
    list_incidents,
    open_incident,
    update_incident,
)
from bastion.uptime.notify import Notice, Notifier
from bastion.uptime.probes import probe
from bastion.uptime.service import (
    add_maintenance,
    add_monitor,
    add_slo,
    add_status_page,
    get_monitor,
    get_slo,
    list_maintenance,
    list_monitors,
    list_slos,
    monitor_state,
    record_push,
    set_paused,
)
from bastion.uptime.slo import BURN_RULES, Budget, BurnRule, BurnSeverity, Slo

__all__ = [
    "BURN_RULES",
    "Agent",
    "AgentStats",
    "Budget",
    "BurnRule",
    "BurnSeverity",
    "Centre",
    "CycleReport",
    "History",
    "Impact",
    "Incident",
    "IncidentStatus",
    "Maintenance",
    "Monitor",
    "MonitorKind",
    "Notice",
    "Notifier",
    "ProbeResult",
    "Repeat",
    "Slo",
    "Timings",
    "add_maintenance",
    "add_monitor",
    "add_slo",
    "add_status_page",
    "agent_name",
    "get_incident",
    "get_monitor",
    "get_slo",
    "host_of",
    "list_incidents",
    "list_maintenance",
    "list_monitors",
    "list_slos",
    "maintenance",
    "monitor",
    "monitor_state",
    "open_incident",
    "probe",
    "record_push",
    "set_paused",
    "update_incident",
]
