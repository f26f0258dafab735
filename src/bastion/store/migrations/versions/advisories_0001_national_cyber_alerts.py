"""national cyber alerts

Create Date: 2026-12-01 08:35:33.357237
"""

from bastion.store.migrations.helpers import (
    adv_audit_columns,
    boolean,
    child_table,
    create_table,
    created_updated,
    date,
    drop_table,
    integer,
    json,
    org_code,
    org_table,
    real,
    string,
    text,
    utc,
)

revision: str = "advisories_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "adv_alerts",
        string("ref", 16),
        string("status", 16),
        integer("version"),
        json("extra_orgs"),
        string("created_by", 200),
        utc("created_at"),
        utc("published_at", nullable=True),
        unique=[("ref",)],
    )
    create_table(
        "adv_audit",
        *adv_audit_columns(),
        indexes=["at"],
    )

    create_table(
        "adv_epss",
        string("cve", 32),
        real("probability"),
        real("percentile"),
        date("score_date", nullable=True),
        key=("cve",),
    )
    create_table(
        "adv_feeds",
        string("name", 100),
        string("url", 2000),
        string("format", 16, nullable=True),
        integer("interval_minutes"),
        string("etag", 200, nullable=True),
        utc("last_run_at", nullable=True),
        string("last_status", 500),
        unique=[("name",)],
    )
    org_table(
        "adv_inventories",
        string("name", 300),
        string("format", 20),
        string("spec_version", 16),
        string("serial", 300, nullable=True),
        string("root_ref", 1000, nullable=True),
        string("root_name", 300),
        string("root_version", 100),
        integer("components"),
        json("rejects"),
        utc("imported_at"),
        org=org_code(length=10),
        unique=[("org_code", "name")],
    )

    org_table(
        "adv_vex",
        string("vulnerability", 64),
        string("product", 1000),
        string("serial", 300, nullable=True),
        json("versions"),
        string("status", 24),
        string("justification", 100),
        text("detail"),
        string("document", 300),
        utc("created_at"),
        org=org_code(length=10),
        indexes=["vulnerability"],
    )

    create_table(
        "adv_vulnerabilities",
        string("key", 64),
        string("summary", 500),
        text("details"),
        string("severity", 16, nullable=True),
        string("cvss_v3_vector", 200, nullable=True),
        real("cvss_v3_score", nullable=True),
        string("cvss_v4_vector", 300, nullable=True),
        real("cvss_v4_score", nullable=True),
        utc("published", nullable=True),
        utc("modified", nullable=True),
        date("kev_date_added", nullable=True),
        date("kev_due_date", nullable=True),
        boolean("kev_ransomware", nullable=True),
        text("kev_required_action"),
        string("kev_product", 300),
        json("references"),
        json("sources"),
        *created_updated(),
        unique=[("key",)],
    )
    create_table(
        "adv_affected",
        integer("vuln_id"),
        string("source", 100),
        string("ecosystem", 16),
        string("package", 300),
        string("lo", 100, nullable=True),
        boolean("lo_incl"),
        string("hi", 100, nullable=True),
        boolean("hi_incl"),
        string("precision", 8),
        string("range_text", 200),
        references={"vuln_id": "adv_vulnerabilities"},
        ondelete="CASCADE",
        indexes=[("ix_adv_affected_package", ["ecosystem", "package"]), "vuln_id"],
    )

    create_table(
        "adv_alert_versions",
        integer("alert_id"),
        integer("version"),
        string("title", 300),
        string("severity", 16),
        string("type", 64),
        text("summary"),
        text("affected_products"),
        text("threat_details"),
        text("remediation"),
        json("cves"),
        string("author", 200),
        string("change_note", 1000),
        utc("created_at"),
        utc("published_at", nullable=True),
        references={"alert_id": "adv_alerts"},
        ondelete="CASCADE",
        unique=[("alert_id", "version")],
    )
    create_table(
        "adv_aliases",
        string("alias", 64),
        integer("vuln_id"),
        key=("alias",),
        references={"vuln_id": "adv_vulnerabilities"},
        ondelete="CASCADE",
        indexes=["vuln_id"],
    )

    create_table(
        "adv_components",
        integer("inventory_id"),
        org_code(length=10),
        string("name", 300),
        string("version", 100),
        string("ecosystem", 16),
        string("package", 300),
        string("purl", 1000, nullable=True),
        string("cpe", 500, nullable=True),
        string("cpe_package", 300, nullable=True),
        string("cpe_version", 100, nullable=True),
        string("bom_ref", 1000, nullable=True),
        references={"inventory_id": "adv_inventories"},
        ondelete="CASCADE",
        indexes=[
            "cpe_package",
            "inventory_id",
            "org_code",
            ("ix_adv_components_package", ["ecosystem", "package"]),
        ],
    )

    child_table(
        "adv_notifications",
        "alert_id",
        "adv_alerts",
        integer("version"),
        org_code(length=10),
        string("channel", 16),
        string("kind", 16),
        string("recipient", 300),
        string("subject", 500),
        string("status", 16),
        text("error"),
        utc("created_at"),
        indexes=["org_code"],
    )

    create_table(
        "adv_responses",
        integer("alert_id"),
        org_code(length=10),
        utc("notified_at"),
        integer("notified_version"),
        utc("ack_due", nullable=True),
        utc("remediation_due", nullable=True),
        utc("acknowledged_at", nullable=True),
        string("acknowledged_by", 200, nullable=True),
        string("applicability", 24, nullable=True),
        utc("next_update_due", nullable=True),
        string("status", 16),
        utc("remediated_at", nullable=True),
        utc("closed_at", nullable=True),
        string("closed_by", 200, nullable=True),
        utc("last_reminded_at", nullable=True),
        references={"alert_id": "adv_alerts"},
        ondelete="CASCADE",
        unique=[("alert_id", "org_code")],
        indexes=["org_code"],
    )

    child_table(
        "adv_actions",
        "response_id",
        "adv_responses",
        text("description"),
        string("status", 16),
        utc("next_update_due", nullable=True),
        string("created_by", 200),
        utc("created_at"),
    )

    create_table(
        "adv_exposures",
        org_code(length=10),
        integer("inventory_id"),
        integer("component_id"),
        integer("vuln_id"),
        string("source", 300),
        string("range_text", 200),
        string("precision", 8),
        string("status", 24),
        string("status_detail", 1000),
        utc("matched_at"),
        references={
            "component_id": "adv_components",
            "inventory_id": "adv_inventories",
            "vuln_id": "adv_vulnerabilities",
        },
        ondelete="CASCADE",
        unique=[("component_id", "vuln_id")],
        indexes=["inventory_id", "org_code", "vuln_id"],
    )

    child_table(
        "adv_action_updates",
        "action_id",
        "adv_actions",
        text("note"),
        string("status", 16),
        string("by", 200),
        utc("at"),
    )


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
