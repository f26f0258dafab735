"""national cyber alerts

Revision ID: advisories_0001
Revises: 0003
Create Date: 2026-12-01 08:35:33.357237
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    adv_audit_columns,
    create_indexes,
    created_updated,
    drop_table,
    foreign_key,
    id_column,
    org_code,
    primary_key,
    unique,
    utc,
)

revision: str = "advisories_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "adv_alerts",
        id_column(),
        sa.Column("ref", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("extra_orgs", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        utc("created_at"),
        utc("published_at", nullable=True),
        primary_key("adv_alerts"),
        unique("adv_alerts", "ref"),
    )
    op.create_table(
        "adv_audit",
        *adv_audit_columns(),
        primary_key("adv_audit"),
    )
    create_indexes("adv_audit", "at")

    op.create_table(
        "adv_epss",
        sa.Column("cve", sa.String(length=32), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("percentile", sa.Float(), nullable=False),
        sa.Column("score_date", sa.Date(), nullable=True),
        primary_key("adv_epss", "cve"),
    )
    op.create_table(
        "adv_feeds",
        id_column(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=True),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=200), nullable=True),
        utc("last_run_at", nullable=True),
        sa.Column("last_status", sa.String(length=500), nullable=False),
        primary_key("adv_feeds"),
        unique("adv_feeds", "name"),
    )
    op.create_table(
        "adv_inventories",
        id_column(),
        org_code(length=10),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("spec_version", sa.String(length=16), nullable=False),
        sa.Column("serial", sa.String(length=300), nullable=True),
        sa.Column("root_ref", sa.String(length=1000), nullable=True),
        sa.Column("root_name", sa.String(length=300), nullable=False),
        sa.Column("root_version", sa.String(length=100), nullable=False),
        sa.Column("components", sa.Integer(), nullable=False),
        sa.Column("rejects", sa.JSON(), nullable=False),
        utc("imported_at"),
        primary_key("adv_inventories"),
        unique("adv_inventories", "org_code", "name"),
    )
    create_indexes("adv_inventories", "org_code")

    op.create_table(
        "adv_vex",
        id_column(),
        org_code(length=10),
        sa.Column("vulnerability", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=1000), nullable=False),
        sa.Column("serial", sa.String(length=300), nullable=True),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("justification", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("document", sa.String(length=300), nullable=False),
        utc("created_at"),
        primary_key("adv_vex"),
    )
    create_indexes("adv_vex", "org_code", "vulnerability")

    op.create_table(
        "adv_vulnerabilities",
        id_column(),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("cvss_v3_vector", sa.String(length=200), nullable=True),
        sa.Column("cvss_v3_score", sa.Float(), nullable=True),
        sa.Column("cvss_v4_vector", sa.String(length=300), nullable=True),
        sa.Column("cvss_v4_score", sa.Float(), nullable=True),
        utc("published", nullable=True),
        utc("modified", nullable=True),
        sa.Column("kev_date_added", sa.Date(), nullable=True),
        sa.Column("kev_due_date", sa.Date(), nullable=True),
        sa.Column("kev_ransomware", sa.Boolean(), nullable=True),
        sa.Column("kev_required_action", sa.Text(), nullable=False),
        sa.Column("kev_product", sa.String(length=300), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        *created_updated(),
        primary_key("adv_vulnerabilities"),
        unique("adv_vulnerabilities", "key"),
    )
    op.create_table(
        "adv_affected",
        id_column(),
        sa.Column("vuln_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("ecosystem", sa.String(length=16), nullable=False),
        sa.Column("package", sa.String(length=300), nullable=False),
        sa.Column("lo", sa.String(length=100), nullable=True),
        sa.Column("lo_incl", sa.Boolean(), nullable=False),
        sa.Column("hi", sa.String(length=100), nullable=True),
        sa.Column("hi_incl", sa.Boolean(), nullable=False),
        sa.Column("precision", sa.String(length=8), nullable=False),
        sa.Column("range_text", sa.String(length=200), nullable=False),
        foreign_key("adv_affected", "vuln_id", "adv_vulnerabilities", ondelete="CASCADE"),
        primary_key("adv_affected"),
    )
    create_indexes("adv_affected", ("ix_adv_affected_package", ["ecosystem", "package"]), "vuln_id")

    op.create_table(
        "adv_alert_versions",
        id_column(),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("affected_products", sa.Text(), nullable=False),
        sa.Column("threat_details", sa.Text(), nullable=False),
        sa.Column("remediation", sa.Text(), nullable=False),
        sa.Column("cves", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("change_note", sa.String(length=1000), nullable=False),
        utc("created_at"),
        utc("published_at", nullable=True),
        foreign_key("adv_alert_versions", "alert_id", "adv_alerts", ondelete="CASCADE"),
        primary_key("adv_alert_versions"),
        unique("adv_alert_versions", "alert_id", "version"),
    )
    op.create_table(
        "adv_aliases",
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("vuln_id", sa.Integer(), nullable=False),
        foreign_key("adv_aliases", "vuln_id", "adv_vulnerabilities", ondelete="CASCADE"),
        primary_key("adv_aliases", "alias"),
    )
    create_indexes("adv_aliases", "vuln_id")

    op.create_table(
        "adv_components",
        id_column(),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        org_code(length=10),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("ecosystem", sa.String(length=16), nullable=False),
        sa.Column("package", sa.String(length=300), nullable=False),
        sa.Column("purl", sa.String(length=1000), nullable=True),
        sa.Column("cpe", sa.String(length=500), nullable=True),
        sa.Column("cpe_package", sa.String(length=300), nullable=True),
        sa.Column("cpe_version", sa.String(length=100), nullable=True),
        sa.Column("bom_ref", sa.String(length=1000), nullable=True),
        foreign_key("adv_components", "inventory_id", "adv_inventories", ondelete="CASCADE"),
        primary_key("adv_components"),
    )
    create_indexes(
        "adv_components",
        "cpe_package",
        "inventory_id",
        "org_code",
        ("ix_adv_components_package", ["ecosystem", "package"]),
    )

    op.create_table(
        "adv_notifications",
        id_column(),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        org_code(length=10),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        utc("created_at"),
        foreign_key("adv_notifications", "alert_id", "adv_alerts", ondelete="CASCADE"),
        primary_key("adv_notifications"),
    )
    create_indexes("adv_notifications", "alert_id", "org_code")

    op.create_table(
        "adv_responses",
        id_column(),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        org_code(length=10),
        utc("notified_at"),
        sa.Column("notified_version", sa.Integer(), nullable=False),
        utc("ack_due", nullable=True),
        utc("remediation_due", nullable=True),
        utc("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("applicability", sa.String(length=24), nullable=True),
        utc("next_update_due", nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        utc("remediated_at", nullable=True),
        utc("closed_at", nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        utc("last_reminded_at", nullable=True),
        foreign_key("adv_responses", "alert_id", "adv_alerts", ondelete="CASCADE"),
        primary_key("adv_responses"),
        unique("adv_responses", "alert_id", "org_code"),
    )
    create_indexes("adv_responses", "org_code")

    op.create_table(
        "adv_actions",
        id_column(),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        utc("next_update_due", nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        utc("created_at"),
        foreign_key("adv_actions", "response_id", "adv_responses", ondelete="CASCADE"),
        primary_key("adv_actions"),
    )
    create_indexes("adv_actions", "response_id")

    op.create_table(
        "adv_exposures",
        id_column(),
        org_code(length=10),
        sa.Column("inventory_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("vuln_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("range_text", sa.String(length=200), nullable=False),
        sa.Column("precision", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_detail", sa.String(length=1000), nullable=False),
        utc("matched_at"),
        foreign_key("adv_exposures", "component_id", "adv_components", ondelete="CASCADE"),
        foreign_key("adv_exposures", "inventory_id", "adv_inventories", ondelete="CASCADE"),
        foreign_key("adv_exposures", "vuln_id", "adv_vulnerabilities", ondelete="CASCADE"),
        primary_key("adv_exposures"),
        unique("adv_exposures", "component_id", "vuln_id"),
    )
    create_indexes("adv_exposures", "inventory_id", "org_code", "vuln_id")

    op.create_table(
        "adv_action_updates",
        id_column(),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        utc("at"),
        foreign_key("adv_action_updates", "action_id", "adv_actions", ondelete="CASCADE"),
        primary_key("adv_action_updates"),
    )
    create_indexes("adv_action_updates", "action_id")


def downgrade() -> None:
    drop_table("adv_action_updates", "action_id")
    drop_table("adv_exposures", "vuln_id", "org_code", "inventory_id")
    drop_table("adv_actions", "response_id")
    drop_table("adv_responses", "org_code")
    drop_table("adv_notifications", "org_code", "alert_id")
    drop_table(
        "adv_components",
        ("ix_adv_components_package", ["ecosystem", "package"]),
        "org_code",
        "inventory_id",
        "cpe_package",
    )
    drop_table("adv_aliases", "vuln_id")
    drop_table("adv_alert_versions")
    drop_table("adv_affected", "vuln_id", ("ix_adv_affected_package", ["ecosystem", "package"]))
    drop_table("adv_vulnerabilities")
    drop_table("adv_vex", "vulnerability", "org_code")
    drop_table("adv_inventories", "org_code")
    drop_table("adv_feeds")
    drop_table("adv_epss")
    drop_table("adv_audit", "at")
    drop_table("adv_alerts")
