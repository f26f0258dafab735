"""A test-only hook: deliver a signal to this process at a named stage of an ingest.

Crash tests run a real ``bastion boundary ingest`` with, say,
``BASTION_TEST_CRASH_AT=after-write:2:KILL``: the second time a batch reaches
``after-write``, the process sends itself SIGKILL there. The value is
``<stage>[:<nth>[:<KILL|TERM|INT|STOP>]]`` (nth 1, KILL by default; STOP freezes the
process there until the test sends SIGCONT, to fault a server meanwhile). Stages:

- ``after-parse``: a batch is transformed, nothing of it written;
- ``after-write``: its archive and dead-letter files are written, not committed;
- ``after-commit``: its SQL transaction is committed, its files not published;
- ``during-compaction``: a compaction wrote its marker and first outputs, not all;
- ``after-publish``: a collector's chunk is acknowledged by JetStream, its checkpoint
  not saved yet.

Unset (always, outside tests) it costs one dictionary lookup per call. The
variable is read here and nowhere else; it is not a setting.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "BASTION_TEST_CRASH_AT"
STAGES = ("after-parse", "after-write", "after-commit", "during-compaction", "after-publish")
_SIGNALS = {
    "KILL": signal.SIGKILL,
    "TERM": signal.SIGTERM,
    "INT": signal.SIGINT,
    "STOP": signal.SIGSTOP,
}
_reached: Counter[str] = Counter()


def crash_point(stage: str) -> None:
    """Signal this process if ``BASTION_TEST_CRASH_AT`` names ``stage`` and its turn has come."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    name, _, rest = wanted.partition(":")
    if name != stage:
        return
    nth, _, sig = rest.partition(":")
    _reached[stage] += 1
    if _reached[stage] == int(nth or 1):
        os.kill(os.getpid(), _SIGNALS[sig or "KILL"])
