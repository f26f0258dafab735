"""The SQL store: engine, sessions, the model base and migrations."""

from bastion.store.base import Base, UtcDateTime
from bastion.store.engine import Store, make_engine
from bastion.store.migrate import downgrade, is_migrated, upgrade

__all__ = ["Base", "Store", "UtcDateTime", "downgrade", "is_migrated", "make_engine", "upgrade"]
