"""National cyber alerts: vulnerability intelligence, inventories, exposure and responses."""

from bastion.advisories.alerts import (
    Alert,
    AlertContent,
    AlertSeverity,
    Target,
    draft_alert,
    edit_draft,
    get_alert,
    preview,
    publish,
    revise,
)
from bastion.advisories.exposure import (
    import_inventory,
    match_inventory,
    match_vulnerabilities,
    rematch_all,
)
from bastion.advisories.feeds import (
    add_feed,
    import_intel,
    import_path,
    import_url,
    list_feeds,
    run_feeds,
)
from bastion.advisories.holdings import (
    Exposure,
    InventorySummary,
    inventory_components,
    list_exposures,
    list_inventories,
)
from bastion.advisories.importers import INTEL_FORMATS, parse_intel, read_intel
from bastion.advisories.inventory import INVENTORY_FORMATS, parse_inventory
from bastion.advisories.notify import SmtpConfig
from bastion.advisories.policy import Policy, load_policy
from bastion.advisories.progress import alert_progress, national_view, organisation_view
from bastion.advisories.responses import (
    Applicability,
    acknowledge,
    add_action,
    close,
    list_responses,
    overdue,
    send_reminders,
    set_applicability,
    update_action,
)
from bastion.advisories.software import SoftwareVulnerability, software_vulnerabilities
from bastion.advisories.visibility import (
    PendingAcknowledgement,
    action_organisation,
    pending_acknowledgements,
    reached_organisations,
    visible_alert,
    visible_alerts,
    visible_responses,
)
from bastion.advisories.vulnerabilities import get_vulnerability, list_vulnerabilities, save_records

__all__ = [
    "INTEL_FORMATS",
    "INVENTORY_FORMATS",
    "Alert",
    "AlertContent",
    "AlertSeverity",
    "Applicability",
    "Exposure",
    "InventorySummary",
    "PendingAcknowledgement",
    "Policy",
    "SmtpConfig",
    "SoftwareVulnerability",
    "Target",
    "acknowledge",
    "action_organisation",
    "add_action",
    "add_feed",
    "alert_progress",
    "close",
    "draft_alert",
    "edit_draft",
    "get_alert",
    "get_vulnerability",
    "import_intel",
    "import_inventory",
    "import_path",
    "import_url",
    "inventory_components",
    "list_exposures",
    "list_feeds",
    "list_inventories",
    "list_responses",
    "list_vulnerabilities",
    "load_policy",
    "match_inventory",
    "match_vulnerabilities",
    "national_view",
    "organisation_view",
    "overdue",
    "parse_intel",
    "parse_inventory",
    "pending_acknowledgements",
    "preview",
    "publish",
    "reached_organisations",
    "read_intel",
    "rematch_all",
    "revise",
    "run_feeds",
    "save_records",
    "send_reminders",
    "set_applicability",
    "software_vulnerabilities",
    "update_action",
    "visible_alert",
    "visible_alerts",
    "visible_responses",
]
