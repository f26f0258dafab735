"""Every context's SQL tables, imported in one place for Alembic and tests."""

from bastion.orgs import models as orgs_models

__all__ = ["orgs_models"]
