"""Feeds of indicators: the registry of feed types and the pulls that keep them current."""

from bastion.core.errors import FetchError
from bastion.intel.feeds import misp, plain, stix, taxii  # noqa: F401  (register the feed types)
from bastion.intel.feeds.registry import (
    FEED_TYPES,
    FeedOptions,
    FeedState,
    FeedType,
    Fetched,
    Parsed,
    get_feed_type,
    register,
)
from bastion.intel.feeds.service import (
    Feed,
    Pull,
    add_feed,
    detect_file_format,
    feed_history,
    get_feed,
    list_feeds,
    pull_due,
    pull_feed,
    read_file,
)

__all__ = [
    "FEED_TYPES",
    "Feed",
    "FeedOptions",
    "FeedState",
    "FeedType",
    "FetchError",
    "Fetched",
    "Parsed",
    "Pull",
    "add_feed",
    "detect_file_format",
    "feed_history",
    "get_feed",
    "get_feed_type",
    "list_feeds",
    "pull_due",
    "pull_feed",
    "read_file",
    "register",
]
