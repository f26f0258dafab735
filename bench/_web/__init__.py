"""Helpers of the web benchmark: a load generator, the real server, the stores measured."""
