"""One piece of evidence, every outcome it supports: across the frameworks an organisation answers.

An evidence link attached to an outcome of one return (a rule-base export on
Cyber Essentials' firewalls, Bastion's own scan findings pre-filled on DSPT 9)
also supports the outcomes that outcome maps to in the other frameworks (the
``maps`` of either framework's library: ``cyber-essentials:firewalls`` ↔
``ncsc-caf:B4.c`` ↔ ``dspt:9``). ``evidence_across`` lists each link of an
organisation's latest returns with every outcome it supports in each framework
the organisation has a return against: attached there, or mapped from where it is.
Mappings are followed one step, in both directions, never transitively: a chain
of "relates to" is not evidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.assure.catalogue import get_framework
from bastion.assure.framework import Framework
from bastion.assure.models import ReturnRow
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope


@dataclass(frozen=True)
class EvidenceUse:
    """One outcome a link supports, in one organisation's return."""

    framework: str  # key@version
    return_id: int
    outcome: str
    title: str
    attached: bool  # attached to this outcome, else supported through a mapping
    via: str  # "" when attached, else where it is attached: "<framework key>:<outcome>"


@dataclass(frozen=True)
class EvidenceLink:
    link: str
    uses: tuple[EvidenceUse, ...]

    @property
    def frameworks(self) -> tuple[str, ...]:
        return tuple(sorted({u.framework.partition("@")[0] for u in self.uses}))


def _latest_returns(session: Session, org: str) -> list[ReturnRow]:
    rows = session.scalars(select(ReturnRow).where(ReturnRow.org_code == org,
                                                   ReturnRow.source != "snapshot"))  # fmt: skip
    latest: dict[str, ReturnRow] = {}
    for row in sorted(rows, key=lambda r: (r.period, r.id)):
        latest[row.framework.partition("@")[0]] = row
    return list(latest.values())


def _mappings(frameworks: list[Framework]) -> dict[str, set[str]]:
    """Each ``key:outcome`` and the ``key:outcome``s it maps to, in both directions."""
    linked: dict[str, set[str]] = defaultdict(set)
    for framework in frameworks:
        for outcome in framework.outcomes:
            here = f"{framework.key}:{outcome.id}"
            for there in outcome.maps:
                linked[here].add(there)
                linked[there].add(here)
    return linked


def evidence_across(session: Session, org: str, scope: Scope) -> list[EvidenceLink]:
    """Return each evidence link of ``org``'s latest returns with every outcome it supports."""
    code = org.strip().upper()
    if not scope.allows(code):
        msg = f"no organisation with code {code!r}"
        raise NotFoundError(msg)
    rows = _latest_returns(session, code)
    frameworks = {r.framework.partition("@")[0]: get_framework(session, r.framework) for r in rows}
    returns = {r.framework.partition("@")[0]: r for r in rows}
    linked = _mappings(list(frameworks.values()))
    uses: dict[str, dict[tuple[str, str], EvidenceUse]] = defaultdict(dict)
    for key, row in returns.items():
        framework = frameworks[key]
        for outcome_id, links in sorted(row.evidence.items()):
            for link in links:
                here = f"{key}:{outcome_id}"
                uses[link][(key, outcome_id)] = EvidenceUse(
                    row.framework, row.id, outcome_id, framework.outcome(outcome_id).title, True, ""
                )
                for there in sorted(linked.get(here, ())):
                    other, _, target = there.partition(":")
                    if other not in returns or (other, target) in uses[link]:
                        continue
                    try:
                        title = frameworks[other].outcome(target).title
                    except (KeyError, NotFoundError):
                        continue  # a mapping to an outcome this version of the library lacks
                    uses[link][(other, target)] = EvidenceUse(
                        returns[other].framework, returns[other].id, target, title, False, here
                    )
    return [
        EvidenceLink(link, tuple(sorted(found.values(), key=lambda u: (u.framework, u.outcome))))
        for link, found in sorted(uses.items())
    ]
