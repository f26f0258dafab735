"""Helpers of the threat-intelligence benchmark (``bench.intel``)."""
