"""SQL tables of the federation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    parent: Mapped[OrganisationRow | None] = relationship(remote_side=[id], lazy="joined")
    networks: Mapped[list[NetworkRow]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="NetworkRow.cidr"
    )
    contacts: Mapped[list[ContactRow]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="ContactRow.id"
    )
    hosts: Mapped[list[HostRow]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="HostRow.hostname"
    )


class NetworkRow(Base):
    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    cidr: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")

    organisation: Mapped[OrganisationRow] = relationship(back_populates="networks")


class ContactRow(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(64), default="security lead")

    organisation: Mapped[OrganisationRow] = relationship(back_populates="contacts")


class HostRow(Base):
    __tablename__ = "hosts"
    __table_args__ = (UniqueConstraint("organisation_id", "hostname"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    hostname: Mapped[str] = mapped_column(String(253))
    address: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="")

    organisation: Mapped[OrganisationRow] = relationship(back_populates="hosts")
