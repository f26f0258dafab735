"""Assurance: framework libraries, self-assessment returns, reviews, readiness, the national picture."""

from bastion.assure.framework import Clause, Framework, OrderedRule, Outcome, Statement, TableRule
from bastion.assure.library import LIBRARY_FORMATS, parse_library, read_library, shipped_library
from bastion.assure.rules import derive_one, marks_matrix, marks_of, outcome_codes, return_codes
from bastion.assure.score import Readiness, control_scores, readiness, readiness_scores

__all__ = [
    "LIBRARY_FORMATS",
    "Clause",
    "Framework",
    "OrderedRule",
    "Outcome",
    "Readiness",
    "Statement",
    "TableRule",
    "control_scores",
    "derive_one",
    "marks_matrix",
    "marks_of",
    "outcome_codes",
    "parse_library",
    "read_library",
    "readiness",
    "readiness_scores",
    "return_codes",
    "shipped_library",
]
