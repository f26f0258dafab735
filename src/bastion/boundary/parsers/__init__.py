"""Log formats. Importing this package registers every parser module."""

# Importing a format's module registers it.
from bastion.boundary.parsers import cef as cef
from bastion.boundary.parsers import cisco_asa as cisco_asa
from bastion.boundary.parsers import ecs_json as ecs_json
from bastion.boundary.parsers import fortigate as fortigate
from bastion.boundary.parsers import iptables as iptables
from bastion.boundary.parsers import panos as panos
from bastion.boundary.parsers import squid as squid
from bastion.boundary.parsers import webaccess as webaccess
from bastion.boundary.parsers import zeek as zeek
from bastion.boundary.parsers.base import (
    PARSERS,
    ParseContext,
    Parser,
    ParseResult,
    detect_format,
    get_parser,
    register,
)

__all__ = [
    "PARSERS",
    "ParseContext",
    "ParseResult",
    "Parser",
    "detect_format",
    "get_parser",
    "register",
]
