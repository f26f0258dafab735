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
    StoreError,
)
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
    "Settings",
    "Severity",
    "StoreError",
    "Tlp",
    "as_utc",
    "load_settings",
    "org_code",
    "utcnow",
]
