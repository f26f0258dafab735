"""The scan lab: loopback servers standing in for members' internet-facing hosts."""

from bastion.demo.scanlab.lab import (
    DKIM_SELECTORS,
    DOMAIN,
    ORGANISATIONS,
    Lab,
    LabHost,
    LabProcess,
    start_lab,
)

__all__ = ["DKIM_SELECTORS", "DOMAIN", "ORGANISATIONS", "Lab", "LabHost", "LabProcess", "start_lab"]
