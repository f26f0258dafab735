"""Protective monitoring at the internet boundary: parse, attribute, enrich, detect, archive."""
