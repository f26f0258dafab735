"""Run the scan lab in its own process: ``python -m bastion.demo.scanlab FOLDER [CANARY]``.

It prints the lab (hosts, ports, CA file, DNS server) as one JSON line, then serves
until its standard input closes. In a process of its own, the lab's servers do
not compete with the scanner for the interpreter.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from bastion.demo.scanlab.lab import start_lab


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    canary = None
    if len(argv) > 1:
        host, _, port = argv[1].rpartition(":")
        canary = (host, int(port))
    lab = start_lab(folder, canary)
    described = {
        "hosts": [dataclasses.asdict(h) for h in lab.hosts],
        "ports": lab.ports,
        "ca_file": str(lab.ca_file),
        "dns_address": lab.dns_address,
    }
    print(json.dumps(described), flush=True)
    sys.stdin.read()
    lab.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
