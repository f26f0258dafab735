"""The synthetic federation and a labelled day of its boundary traffic, for demos and benchmarks."""

from bastion.demo.federation import (
    SIZES,
    LoadReport,
    Plan,
    counts_by_type,
    generate_federation,
    load_federation,
    nested_allocations,
    plan_for,
)
from bastion.demo.plant import PlantedAttack, owner_of
from bastion.demo.traffic import (
    DEFAULT_DAY,
    LogFile,
    TrafficManifest,
    demo_indicators,
    generate_traffic,
)

__all__ = [
    "DEFAULT_DAY",
    "SIZES",
    "LoadReport",
    "LogFile",
    "Plan",
    "PlantedAttack",
    "TrafficManifest",
    "counts_by_type",
    "demo_indicators",
    "generate_federation",
    "generate_traffic",
    "load_federation",
    "nested_allocations",
    "owner_of",
    "plan_for",
]
