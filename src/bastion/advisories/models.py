"""SQL tables of national cyber alerts: vulnerabilities, inventories, exposures, alerts, responses.

Organisations are referred to by their code: this context never joins another's tables.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime

IntPk = Annotated[int, mapped_column(Integer, primary_key=True)]
"""The integer ``id`` every table here is keyed on."""


def part_of(table: str, *, index: bool = True) -> MappedColumn[int]:
    """Return a reference to a row of ``table`` that goes when that row goes (indexed by default)."""
    return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"), index=index)


class VulnerabilityRow(Base):
    """One vulnerability, whatever number of records and aliases describe it."""

    __tablename__ = "adv_vulnerabilities"

    id: Mapped[IntPk]
    key: Mapped[str] = mapped_column(String(64), unique=True)
    summary: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str | None] = mapped_column(String(16))
    cvss_v3_vector: Mapped[str | None] = mapped_column(String(200))
    cvss_v3_score: Mapped[float | None] = mapped_column(Float)
    cvss_v4_vector: Mapped[str | None] = mapped_column(String(300))
    cvss_v4_score: Mapped[float | None] = mapped_column(Float)
    published: Mapped[datetime | None] = mapped_column(UtcDateTime)
    modified: Mapped[datetime | None] = mapped_column(UtcDateTime)
    kev_date_added: Mapped[date | None] = mapped_column(Date)
    kev_due_date: Mapped[date | None] = mapped_column(Date)
    kev_ransomware: Mapped[bool | None] = mapped_column(Boolean)
    kev_required_action: Mapped[str] = mapped_column(Text, default="")
    kev_product: Mapped[str] = mapped_column(String(300), default="")
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class AliasRow(Base):
    """An identifier (CVE, GHSA, OSV id …) of a vulnerability."""

    __tablename__ = "adv_aliases"

    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    vuln_id: Mapped[int] = part_of("adv_vulnerabilities")


class AffectedRow(Base):
    """One affected interval of one package, as one source record says."""

    __tablename__ = "adv_affected"
    __table_args__ = (Index("ix_adv_affected_package", "ecosystem", "package"),)

    id: Mapped[IntPk]
    vuln_id: Mapped[int] = part_of("adv_vulnerabilities")
    source: Mapped[str] = mapped_column(String(100))
    ecosystem: Mapped[str] = mapped_column(String(16))
    package: Mapped[str] = mapped_column(String(300))
    lo: Mapped[str | None] = mapped_column(String(100))
    lo_incl: Mapped[bool] = mapped_column(Boolean, default=True)
    hi: Mapped[str | None] = mapped_column(String(100))
    hi_incl: Mapped[bool] = mapped_column(Boolean, default=False)
    precision: Mapped[str] = mapped_column(String(8), default="version")
    range_text: Mapped[str] = mapped_column(String(200), default="")


class EpssRow(Base):
    """The EPSS probability of exploitation of a CVE, and its percentile."""

    __tablename__ = "adv_epss"

    cve: Mapped[str] = mapped_column(String(32), primary_key=True)
    probability: Mapped[float] = mapped_column(Float)
    percentile: Mapped[float] = mapped_column(Float)
    score_date: Mapped[date | None] = mapped_column(Date)


class FeedRow(Base):
    """A vulnerability feed fetched from a URL every ``interval_minutes``."""

    __tablename__ = "adv_feeds"

    id: Mapped[IntPk]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    format: Mapped[str | None] = mapped_column(String(16))
    interval_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[str] = mapped_column(String(500), default="")


class InventoryRow(Base):
    """One inventory (an SBOM or a CSV) of one organisation."""

    __tablename__ = "adv_inventories"
    __table_args__ = (UniqueConstraint("org_code", "name"),)

    id: Mapped[IntPk]
    org_code: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(20))
    spec_version: Mapped[str] = mapped_column(String(16), default="")
    serial: Mapped[str | None] = mapped_column(String(300))
    root_ref: Mapped[str | None] = mapped_column(String(1000))
    root_name: Mapped[str] = mapped_column(String(300), default="")
    root_version: Mapped[str] = mapped_column(String(100), default="")
    components: Mapped[int] = mapped_column(Integer, default=0)
    rejects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ComponentRow(Base):
    """One component of an inventory, under its purl (or name) and CPE package keys."""

    __tablename__ = "adv_components"
    __table_args__ = (Index("ix_adv_components_package", "ecosystem", "package"),)

    id: Mapped[IntPk]
    inventory_id: Mapped[int] = part_of("adv_inventories")
    org_code: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(100))
    ecosystem: Mapped[str] = mapped_column(String(16))
    package: Mapped[str] = mapped_column(String(300))
    purl: Mapped[str | None] = mapped_column(String(1000))
    cpe: Mapped[str | None] = mapped_column(String(500))
    cpe_package: Mapped[str | None] = mapped_column(String(300), index=True)
    cpe_version: Mapped[str | None] = mapped_column(String(100))
    bom_ref: Mapped[str | None] = mapped_column(String(1000))


class VexRow(Base):
    """A VEX statement an organisation holds about a vulnerability in its product."""

    __tablename__ = "adv_vex"

    id: Mapped[IntPk]
    org_code: Mapped[str] = mapped_column(String(10), index=True)
    vulnerability: Mapped[str] = mapped_column(String(64), index=True)
    product: Mapped[str] = mapped_column(String(1000))
    serial: Mapped[str | None] = mapped_column(String(300))
    versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(24))
    justification: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ExposureRow(Base):
    """A component of an organisation that a vulnerability affects, and why we think so."""

    __tablename__ = "adv_exposures"
    __table_args__ = (UniqueConstraint("component_id", "vuln_id"),)

    id: Mapped[IntPk]
    org_code: Mapped[str] = mapped_column(String(10), index=True)
    inventory_id: Mapped[int] = part_of("adv_inventories")
    component_id: Mapped[int] = part_of("adv_components", index=False)
    vuln_id: Mapped[int] = part_of("adv_vulnerabilities")
    source: Mapped[str] = mapped_column(String(300))
    range_text: Mapped[str] = mapped_column(String(200))
    precision: Mapped[str] = mapped_column(String(8), default="version")
    status: Mapped[str] = mapped_column(String(24), default="affected")
    status_detail: Mapped[str] = mapped_column(String(1000), default="")
    matched_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AlertRow(Base):
    """A national cyber alert (CC-NNNN); its content lives in its versions."""

    __tablename__ = "adv_alerts"

    id: Mapped[IntPk]
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    extra_orgs: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AlertVersionRow(Base):
    """One version of an alert's content; published versions are never changed."""

    __tablename__ = "adv_alert_versions"
    __table_args__ = (UniqueConstraint("alert_id", "version"),)

    id: Mapped[IntPk]
    alert_id: Mapped[int] = part_of("adv_alerts", index=False)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    affected_products: Mapped[str] = mapped_column(Text, default="")
    threat_details: Mapped[str] = mapped_column(Text, default="")
    remediation: Mapped[str] = mapped_column(Text, default="")
    cves: Mapped[list[str]] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(200))
    change_note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ResponseRow(Base):
    """One organisation's response to one alert."""

    __tablename__ = "adv_responses"
    __table_args__ = (UniqueConstraint("alert_id", "org_code"),)

    id: Mapped[IntPk]
    alert_id: Mapped[int] = part_of("adv_alerts", index=False)
    org_code: Mapped[str] = mapped_column(String(10), index=True)
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    notified_version: Mapped[int] = mapped_column(Integer)
    ack_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    remediation_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    applicability: Mapped[str | None] = mapped_column(String(24))
    next_update_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    remediated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    last_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ActionRow(Base):
    """A remediation action an organisation takes for an alert."""

    __tablename__ = "adv_actions"

    id: Mapped[IntPk]
    response_id: Mapped[int] = part_of("adv_responses")
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    next_update_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ActionUpdateRow(Base):
    """A progress note on a remediation action."""

    __tablename__ = "adv_action_updates"

    id: Mapped[IntPk]
    action_id: Mapped[int] = part_of("adv_actions")
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class NotificationRow(Base):
    """An e-mail sent (or that failed) and a console notice, per organisation and alert."""

    __tablename__ = "adv_notifications"

    id: Mapped[IntPk]
    alert_id: Mapped[int] = part_of("adv_alerts")
    version: Mapped[int] = mapped_column(Integer)
    org_code: Mapped[str] = mapped_column(String(10), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
