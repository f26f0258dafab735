"""Log formats. Importing this package registers every parser module."""

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
