"""Benchmarks: scripts that print throughput and memory and write ``bench/results/``."""
