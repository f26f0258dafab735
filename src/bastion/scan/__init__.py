"""Threat scanning of members' registered internet-facing services: checks, findings, schedule."""

from bastion.scan.canary import Hit, listen, new_token, token_of
from bastion.scan.checks import CHECKS, DEFAULT_PORTS, USER_AGENT, ScanConfig
from bastion.scan.domain import (
    Evidence,
    ExceptionState,
    Finding,
    Observation,
    ScanException,
    Status,
)
from bastion.scan.engine import ScanReport, scan, scan_config
from bastion.scan.exceptions import (
    add_exception,
    decide_exception,
    get_exception,
    list_exceptions,
)
from bastion.scan.hits import record_hit
from bastion.scan.notify import (
    Cadence,
    Notice,
    cadence,
    channels,
    due_reminders,
    send_digests,
    send_reminders,
)
from bastion.scan.outcome import HostOutcome
from bastion.scan.policy import ScanPolicy, get_policy, set_policy
from bastion.scan.read import (
    finding_json,
    get_finding,
    list_findings,
    national_summary,
    organisation_report,
    remediation_text,
    sent_notices,
    weekly_trend,
)
from bastion.scan.scheduler import Plan, due_targets, plan, trigger_rescans
from bastion.scan.service import FoldReport, record_outcome, request_rescan
from bastion.scan.targets import Target, TargetRefused, organisation_targets, resolve_target

__all__ = [
    "CHECKS",
    "DEFAULT_PORTS",
    "USER_AGENT",
    "Cadence",
    "Evidence",
    "ExceptionState",
    "Finding",
    "FoldReport",
    "Hit",
    "HostOutcome",
    "Notice",
    "Observation",
    "Plan",
    "ScanConfig",
    "ScanException",
    "ScanPolicy",
    "ScanReport",
    "Status",
    "Target",
    "TargetRefused",
    "add_exception",
    "cadence",
    "channels",
    "decide_exception",
    "due_reminders",
    "due_targets",
    "finding_json",
    "get_exception",
    "get_finding",
    "get_policy",
    "list_exceptions",
    "list_findings",
    "listen",
    "national_summary",
    "new_token",
    "organisation_report",
    "organisation_targets",
    "plan",
    "record_hit",
    "record_outcome",
    "remediation_text",
    "request_rescan",
    "resolve_target",
    "scan",
    "scan_config",
    "send_digests",
    "send_reminders",
    "sent_notices",
    "set_policy",
    "token_of",
    "trigger_rescans",
    "weekly_trend",
]
