"""SQL tables of sign-in: users, memberships, sessions, API tokens, policies and rate counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime


class UserRow(Base):
    __tablename__ = "auth_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    national_role: Mapped[str | None] = mapped_column(String(32))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The last TOTP time step accepted: a code is good once, never replayed.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    memberships: Mapped[list[MembershipRow]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        order_by="MembershipRow.org_code",
        lazy="selectin",
    )


class MembershipRow(Base):
    __tablename__ = "auth_memberships"
    __table_args__ = (UniqueConstraint("user_id", "org_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_users.id", ondelete="CASCADE"))
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[UserRow] = relationship(back_populates="memberships")


class SessionRow(Base):
    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of the cookie's value: a copy of the database signs nobody in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("auth_users.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(16))  # "totp" (password only) or "full"
    csrf_token: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TokenRow(Base):
    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    org_code: Mapped[str | None] = mapped_column(String(16), index=True)  # None: national
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OrgPolicyRow(Base):
    __tablename__ = "auth_org_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), unique=True)
    require_totp: Mapped[bool] = mapped_column(Boolean, default=False)


class RateCounterRow(Base):
    """Hits of one key in one time bucket of a rate limit, shared by every server process."""

    __tablename__ = "auth_rate_counters"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)  # which limit: signin, api
    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # who: an address, an actor
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # time // bucket length
    hits: Mapped[int] = mapped_column(Integer)
