"""What one scan of one target produced: its observations, what it covered, its results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bastion.scan.domain import Observation
from bastion.scan.targets import Target


@dataclass
class HostOutcome:
    """The outcome of scanning one target.

    ``covered`` maps each check that ran to completion to the ports it looked at
    (0 standing for the host's web service): a finding on a covered port that was
    not observed again is on its way to being closed; a check that failed or was
    skipped covers nothing, so its findings stay as they were.
    """

    target: Target
    observations: list[Observation] = field(default_factory=list)
    covered: dict[str, set[int]] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)  # serialised result per check
    skipped: dict[str, str] = field(default_factory=dict)  # check → why it did not run
    errors: dict[str, str] = field(default_factory=dict)  # check → what went wrong
