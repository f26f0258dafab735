"""Threat intelligence: indicators, their files and store, and the compiled match index."""

from bastion.intel.index import (
    FIELDS,
    INDICATOR_SCHEMA,
    MATCH_SCHEMA,
    MatchIndex,
    empty_matches,
    indicator_frame,
)
from bastion.intel.indicator import (
    Action,
    Indicator,
    IndicatorType,
    infer_type,
    normalise,
    parse_action,
    parse_severity,
)
from bastion.intel.loaders import load_indicator_file, read_indicators_csv, read_indicators_json
from bastion.intel.service import (
    active_indicator_frame,
    active_indicators,
    get_indicator,
    list_indicators,
    save_indicators,
)
from bastion.intel.urls import normalise_url, normalise_urls

__all__ = [
    "FIELDS",
    "INDICATOR_SCHEMA",
    "MATCH_SCHEMA",
    "Action",
    "Indicator",
    "IndicatorType",
    "MatchIndex",
    "active_indicator_frame",
    "active_indicators",
    "empty_matches",
    "get_indicator",
    "indicator_frame",
    "infer_type",
    "list_indicators",
    "load_indicator_file",
    "normalise",
    "normalise_url",
    "normalise_urls",
    "parse_action",
    "parse_severity",
    "read_indicators_csv",
    "read_indicators_json",
    "save_indicators",
]
