"""A finding: what one evidence provider's look at an organisation says about some statements."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """What one provider's evidence says about some statements of an organisation."""

    provider: str
    statements: tuple[str, ...]  # "<framework key>:<statement id>"
    met: bool
    summary: str
    link: str
    drift: bool = False  # strong enough to contradict a published "met"
