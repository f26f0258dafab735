"""Settings, errors, time and the value types every context shares."""

from bastion.core.errors import (
    BastionError,
    ConfigError,
    ConflictError,
    FormatError,
    InputError,
    LimitExceeded,
    Location,
    NotFoundError,
    PermissionDenied,
    RegistryNameError,
    StoreError,
)
from bastion.core.registry import Registry
from bastion.core.settings import Settings, load_settings
from bastion.core.timeutil import as_utc, utcnow
from bastion.core.types import OrgCode, Severity, Tlp, org_code

__all__ = [
    "BastionError",
    "ConfigError",
    "ConflictError",
    "FormatError",
    "InputError",
    "LimitExceeded",
    "Location",
    "NotFoundError",
    "OrgCode",
    "PermissionDenied",
    "Registry",
    "RegistryNameError",
    "Settings",
    "Severity",
    "StoreError",
    "Tlp",
    "as_utc",
    "load_settings",
    "org_code",
    "utcnow",
]
