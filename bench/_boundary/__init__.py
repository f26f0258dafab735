"""Helpers of ``bench.boundary``: data generation, the Bastion state, the measured worker, reports."""
