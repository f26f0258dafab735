"""The feed types and indicator file formats Bastion reads, each listed here by name.

``FEED_TYPES`` are what a feed's ``kind`` may name; ``FILE_FORMATS`` are what
``bastion intel import --format`` and the upload API accept (besides ``auto``):
Bastion's own CSV and JSON, and the feed types whose content is one file.
"""

from __future__ import annotations

from collections.abc import Callable

from bastion.core.errors import InputError, Location
from bastion.core.registry import Registry
from bastion.intel.feeds import misp, plain, stix, taxii
from bastion.intel.feeds.base import FeedOptions, FeedType, Parsed, Reader
from bastion.intel.indicator import Indicator
from bastion.intel.loaders import read_indicators_csv, read_indicators_json

FEED_TYPES: Registry[FeedType] = Registry(
    "feed type",
    (
        ("csv", plain.CSV),
        ("misp-event", misp.MISP_EVENT),
        ("misp-feed", misp.MISP_FEED),
        ("plain", plain.PLAIN),
        ("stix", stix.STIX),
        ("taxii", taxii.TAXII),
    ),
)


def get_feed_type(name: str) -> FeedType:
    """Return the feed type called ``name`` (any case), or raise RegistryNameError listing them."""
    return FEED_TYPES.get(name.strip().lower(), Location(field="kind"))


def _all_or_nothing(load: Callable[[str, str, str], list[Indicator]]) -> Reader:
    """Read a Bastion indicator file as a feed's content is read; one bad row refuses it all."""

    def read(content: bytes, options: FeedOptions, where: str) -> Parsed:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            msg = f"not UTF-8 text: {exc}"
            raise InputError(msg, Location(where)) from None
        return Parsed(indicators=load(text, where, options.source))

    return read


FILE_FORMATS: Registry[Reader] = Registry(
    "format",
    (
        ("bastion-csv", _all_or_nothing(read_indicators_csv)),
        ("bastion-json", _all_or_nothing(read_indicators_json)),
        ("stix", stix.STIX.read),
        ("misp-event", misp.MISP_EVENT.read),
        ("plain", plain.PLAIN.read),
        ("csv", plain.CSV.read),
    ),
)
