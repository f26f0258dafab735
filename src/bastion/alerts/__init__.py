"""The alerts context: one store every producer raises alerts through, and their triage."""

from bastion.alerts.external import ExternalAlert, raise_external
from bastion.alerts.metrics import ResponseFigures, ResponseMetrics, response_metrics
from bastion.alerts.queries import count_alerts_by_key, get_alert, list_alerts, require_org
from bastion.alerts.store import (
    EVIDENCE_LIMIT,
    OPEN_STATES,
    Alert,
    AlertStats,
    Evidence,
    Resolution,
    TriageState,
    Verdict,
    aggregate_candidates,
    record_alerts,
)

__all__ = [
    "EVIDENCE_LIMIT",
    "OPEN_STATES",
    "Alert",
    "AlertStats",
    "Evidence",
    "ExternalAlert",
    "Resolution",
    "ResponseFigures",
    "ResponseMetrics",
    "TriageState",
    "Verdict",
    "aggregate_candidates",
    "count_alerts_by_key",
    "get_alert",
    "list_alerts",
    "raise_external",
    "record_alerts",
    "require_org",
    "response_metrics",
]
