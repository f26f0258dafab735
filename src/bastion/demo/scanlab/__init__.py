"""The scan lab: loopback servers standing in for members' internet-facing hosts."""

from bastion.demo.scanlab.lab import DOMAIN, ORGANISATIONS, Lab, LabHost, LabProcess, start_lab

__all__ = ["DOMAIN", "ORGANISATIONS", "Lab", "LabHost", "LabProcess", "start_lab"]
