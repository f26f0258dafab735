"""Time one parser over one file in this process: ``python parse_timer.py SPEC.json``.

The parse-only run of ``worker`` (read the chunks, split the lines, parse), with the
process's CPU seconds beside the wall-clock ones: on a machine others share, CPU time
is what the parser itself cost. It imports only what every Bastion version since the
boundary benchmark has, so ``boundary_compare`` runs it with an older tree's Python
to time that tree's parsers over the same file.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(spec_path: str) -> None:
    """Parse the spec's input with its parser; write seconds, CPU seconds and counts."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    if spec.get("cpus"):
        os.sched_setaffinity(0, set(spec["cpus"]))
    from bastion.boundary.lines import split_lines
    from bastion.boundary.parsers import ParseContext, get_parser
    from bastion.boundary.sources import open_source, read_chunks

    path = Path(spec["input"])
    parser = get_parser(spec["parser"])
    ctx = ParseContext(source=str(path), default_year=2025)
    events = rejects = size = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    with open_source(path) as stream:
        for chunk in read_chunks(stream):
            parsed = parser.read(split_lines(chunk.data, chunk.offset), ctx)
            events += parsed.events.height
            rejects += parsed.rejects.height
            size += len(chunk.data)
    result = {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "events": events,
        "rejects": rejects,
        "bytes": size,
    }
    Path(spec["result"]).write_text(json.dumps(result) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
