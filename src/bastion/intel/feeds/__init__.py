"""Feeds of indicators: the feed types and file formats, and the pulls that keep feeds current."""

from bastion.core.errors import FetchError
from bastion.intel.feeds.base import FeedOptions, FeedState, FeedType, Fetched, Parsed
from bastion.intel.feeds.registry import FEED_TYPES, FILE_FORMATS, get_feed_type
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
    "FILE_FORMATS",
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
]
