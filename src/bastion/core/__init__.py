"""Settings, errors, time and the value types every context shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from bastion.core.timeutil import as_utc, utcnow
from bastion.core.types import OrgCode, Severity, Tlp, org_code

if TYPE_CHECKING:
    from bastion.core.settings import Settings, load_settings


def __getattr__(name: str) -> Any:
    """Import the settings (and pydantic with them) only when asked: `bastion --help` never is."""
    if name in {"Settings", "load_settings"}:
        from bastion.core import settings

        return getattr(settings, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


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
