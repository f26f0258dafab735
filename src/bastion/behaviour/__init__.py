"""Behavioural hunting over the archive: beacons, long connections, DNS tunnels, rare fingerprints."""

from bastion.behaviour.allowlist import KINDS, AllowEntry, add_allowed, list_allowed, remove_allowed
from bastion.behaviour.analyse import ANALYTICS, analyse_day
from bastion.behaviour.config import DEFAULT_CONFIG, BehaviourConfig
from bastion.behaviour.read import BehaviourResult, get_result, list_results, mark_benign
from bastion.behaviour.service import HuntReport, days_to_hunt, hunt_days, hunted_days

__all__ = [
    "ANALYTICS",
    "DEFAULT_CONFIG",
    "KINDS",
    "AllowEntry",
    "BehaviourConfig",
    "BehaviourResult",
    "HuntReport",
    "add_allowed",
    "analyse_day",
    "days_to_hunt",
    "get_result",
    "hunt_days",
    "hunted_days",
    "list_allowed",
    "list_results",
    "mark_benign",
    "remove_allowed",
]
