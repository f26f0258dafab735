"""Assurance: framework libraries, self-assessment returns, reviews, readiness, the national picture."""

from bastion.assure.catalogue import (
    FrameworkSummary,
    get_framework,
    import_framework,
    list_frameworks,
    store_framework,
)
from bastion.assure.crosswalk import EvidenceLink, EvidenceUse, evidence_across
from bastion.assure.drift import DriftFlag, detect_drift, prefill
from bastion.assure.evidence import Finding
from bastion.assure.export import FORMATS as EXPORT_FORMATS
from bastion.assure.export import export_return
from bastion.assure.framework import Clause, Framework, OrderedRule, Outcome, Statement, TableRule
from bastion.assure.library import (
    LIBRARY_FORMATS,
    SHIPPED,
    parse_library,
    read_library,
    shipped_library,
)
from bastion.assure.national import Dashboard, PeerPosition, dashboard, peer_position
from bastion.assure.providers import PROVIDERS, Provider
from bastion.assure.readiness import FORMULA, OrgReadiness, org_readiness
from bastion.assure.returns import (
    ReturnSummary,
    list_returns,
    open_return,
    publish,
    update_return,
    versions,
    view,
    visible_row,
)
from bastion.assure.reviews import (
    KINDS,
    STATES,
    add_action,
    assign_review,
    plan,
    review_return,
    set_action,
)
from bastion.assure.rules import derive_one, marks_matrix, marks_of, outcome_codes, return_codes
from bastion.assure.score import Readiness, control_scores, readiness, readiness_scores
from bastion.assure.snapshot import SnapshotReport, import_snapshot
from bastion.assure.views import OutcomeView, ReturnView, ReviewView, StatementView, period_deadline

__all__ = [
    "EXPORT_FORMATS", "FORMULA", "KINDS", "LIBRARY_FORMATS", "PROVIDERS", "SHIPPED", "STATES",
    "Clause", "Dashboard", "DriftFlag", "EvidenceLink", "EvidenceUse", "Finding", "Framework", "FrameworkSummary", "OrderedRule",
    "OrgReadiness", "Outcome", "OutcomeView", "PeerPosition", "Provider", "Readiness", "ReturnSummary",
    "ReturnView", "ReviewView", "SnapshotReport", "Statement", "StatementView", "TableRule",
    "add_action", "assign_review", "control_scores", "dashboard", "derive_one", "detect_drift",
    "evidence_across", "export_return", "get_framework", "import_framework", "import_snapshot", "list_frameworks",
    "list_returns", "marks_matrix", "marks_of", "open_return", "org_readiness", "outcome_codes",
    "parse_library", "peer_position", "period_deadline", "plan", "prefill", "publish", "read_library",
    "readiness", "readiness_scores", "return_codes", "review_return", "set_action", "shipped_library",
    "store_framework", "update_return", "versions", "view", "visible_row",
]  # fmt: skip
