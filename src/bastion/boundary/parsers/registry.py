"""The log formats Bastion reads, each listed here under the name ``--format`` takes."""

from __future__ import annotations

from bastion.boundary.parsers import (
    cef,
    cisco_asa,
    ecs_json,
    fortigate,
    iptables,
    panos,
    squid,
    webaccess,
    zeek,
)
from bastion.boundary.parsers.base import Parser
from bastion.core.errors import FormatError
from bastion.core.registry import Registry

PARSERS: Registry[Parser] = Registry(
    "log format",
    (
        ("cef", cef.PARSER),
        ("cisco-asa", cisco_asa.PARSER),
        ("ecs", ecs_json.PARSER),
        ("fortigate", fortigate.PARSER),
        ("iptables", iptables.PARSER),
        ("nginx", webaccess.PARSER),
        ("panos", panos.PARSER),
        ("squid", squid.PARSER),
        ("zeek", zeek.TSV_PARSER),
        ("zeek-json", zeek.JSON_PARSER),
    ),
)


def get_parser(name: str) -> Parser:
    """Return the parser of format ``name``, or raise RegistryNameError listing the formats."""
    return PARSERS.get(name)


def detect_format(sample: list[str], source: str = "<memory>") -> Parser:
    """Pick the one format that reads ``sample``; raise FormatError if none or several do.

    Each format first judges the sample whole (a Zeek log is told by its headers);
    if none accepts it, each line is judged on its own and a format that reads most
    of them wins, so one malformed line does not hide the format of the rest.
    """
    lines = [line for line in sample if line.strip()][:20]
    whole = sorted(p.name for p in PARSERS.values() if p.sniff(lines))
    if not whole:
        votes = {p.name: sum(p.sniff([line]) for line in lines) for p in PARSERS.values()}
        best = max(votes.values(), default=0)
        if best * 2 > len(lines):
            whole = sorted(name for name, count in votes.items() if count == best)
    if len(whole) == 1:
        return PARSERS.get(whole[0])
    if not whole:
        msg = f"{source}: cannot tell the log format; give it with --format"
        raise FormatError(msg)
    msg = f"{source}: format is ambiguous ({', '.join(whole)}); give it with --format"
    raise FormatError(msg)
