"""Every scan check, in the order a host is scanned: one explicit registry.

Each entry is one module's ``CHECK`` (its implementation, result type,
observations and serialisation together, as sslyze arranges its plug-ins).
``ports`` always runs first: the checks after it look at the services it found.
"""

from typing import Any

from bastion.core.registry import Registry
from bastion.scan.checks import files, headers, log4shell, mail, ports, software, tls
from bastion.scan.checks.base import (
    USER_AGENT,
    Check,
    Lookups,
    Probe,
    ScanConfig,
    Service,
)
from bastion.scan.checks.ports import DEFAULT_PORTS

CHECKS: Registry[Check[Any]] = Registry(
    "scan check",
    (
        ("ports", ports.CHECK),
        ("tls", tls.CHECK),
        ("headers", headers.CHECK),
        ("files", files.CHECK),
        ("software", software.CHECK),
        ("log4shell", log4shell.CHECK),
        ("mail", mail.CHECK),
    ),
)

__all__ = [
    "CHECKS",
    "DEFAULT_PORTS",
    "USER_AGENT",
    "Check",
    "Lookups",
    "Probe",
    "ScanConfig",
    "Service",
]
