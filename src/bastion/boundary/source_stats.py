"""What ingesting one source did: ``SourceStats``, filled batch by batch as the source is read."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SourceStats:
    """What ingesting one source did.

    Every line read is counted once: ``lines == events + rejects + blank``, where
    ``blank`` counts blank lines and a format's header lines (Zeek's ``#`` lines). A
    source that could not be read at all has status ``skipped``, one read before as another
    format ``refused``; each says why in ``reason``.
    """

    source: str
    format: str
    status: str = "ingested"  # ingested | resumed | already ingested | refused | skipped
    lines: int = 0
    events: int = 0
    rejects: int = 0
    blank: int = 0
    matches: int = 0
    unattributed_matches: int = 0
    alerts_created: int = 0
    alerts_extended: int = 0
    batches: int = 0
    batches_already_done: int = 0
    bytes: int = 0
    seconds: float = 0.0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    reason: str | None = None  # why a skipped source could not be read, or a refused one was not
