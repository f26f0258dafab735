"""The alerts context: one store every producer raises alerts through, and their triage."""

from bastion.alerts.external import ExternalAlert, raise_external
from bastion.alerts.metrics import ResponseFigures, ResponseMetrics, response_metrics
from bastion.alerts.notices import GroupNotice, groups_to_notify, record_notice
from bastion.alerts.queries import (
    COUNT_CAP,
    AlertFilter,
    AlertPage,
    alert_page,
    count_alerts,
    get_alert,
    list_alerts,
    require_org,
)
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
from bastion.alerts.summary import (
    AlertSummary,
    Source,
    count_alerts_live,
    count_rule_alerts,
    summarise_alerts,
)

__all__ = [
    "COUNT_CAP",
    "EVIDENCE_LIMIT",
    "OPEN_STATES",
    "Alert",
    "AlertFilter",
    "AlertPage",
    "AlertStats",
    "AlertSummary",
    "Evidence",
    "ExternalAlert",
    "GroupNotice",
    "Resolution",
    "ResponseFigures",
    "ResponseMetrics",
    "Source",
    "TriageState",
    "Verdict",
    "aggregate_candidates",
    "alert_page",
    "count_alerts",
    "count_alerts_live",
    "count_rule_alerts",
    "get_alert",
    "groups_to_notify",
    "list_alerts",
    "raise_external",
    "record_alerts",
    "record_notice",
    "require_org",
    "response_metrics",
    "summarise_alerts",
]
