"""Live-service availability: monitors, probes from vantage points, SLOs, burn-rate alerts."""

from bastion.uptime.domain import (
    Maintenance,
    Monitor,
    MonitorKind,
    ProbeResult,
    Repeat,
    Timings,
    maintenance,
    monitor,
)
from bastion.uptime.probes import probe

__all__ = [
    "Maintenance",
    "Monitor",
    "MonitorKind",
    "ProbeResult",
    "Repeat",
    "Timings",
    "maintenance",
    "monitor",
    "probe",
]
