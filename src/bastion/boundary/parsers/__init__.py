"""Log formats: each module declares its ``Parser``; ``registry.PARSERS`` lists them by name."""

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult
from bastion.boundary.parsers.registry import PARSERS, detect_format, get_parser

__all__ = [
    "PARSERS",
    "ParseContext",
    "ParseResult",
    "Parser",
    "detect_format",
    "get_parser",
]
