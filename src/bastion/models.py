"""Every context's SQL tables, imported in one place for Alembic and tests."""

from bastion.advisories import models as advisories_models
from bastion.alerts import models as alerts_models
from bastion.assure import models as assure_models
from bastion.audit import models as audit_models
from bastion.auth import models as auth_models
from bastion.behaviour import models as behaviour_models
from bastion.boundary import models as boundary_models
from bastion.cases import models as cases_models
from bastion.detect import models as detect_models
from bastion.detect.correlation import models as correlation_models
from bastion.intel import models as intel_models
from bastion.orgs import models as orgs_models
from bastion.passwords import models as passwords_models
from bastion.scan import models as scan_models
from bastion.uptime import models as uptime_models

__all__ = [
    "advisories_models",
    "alerts_models",
    "assure_models",
    "audit_models",
    "auth_models",
    "behaviour_models",
    "boundary_models",
    "cases_models",
    "correlation_models",
    "detect_models",
    "intel_models",
    "orgs_models",
    "passwords_models",
    "scan_models",
    "uptime_models",
]
