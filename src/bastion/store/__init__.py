"""The SQL store: engine, sessions, the model base and migrations."""

from bastion.store.base import Base, UtcDateTime
from bastion.store.engine import Store, make_engine
from bastion.store.locks import lock_key, transaction_lock
from bastion.store.migrate import downgrade, is_migrated, upgrade

__all__ = [
    "Base",
    "Store",
    "UtcDateTime",
    "downgrade",
    "is_migrated",
    "lock_key",
    "make_engine",
    "transaction_lock",
    "upgrade",
]
