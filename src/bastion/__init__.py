"""Bastion: an open cyber defence platform for a federation of health and care organisations."""

__version__ = "0.1.0"
