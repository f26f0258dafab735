"""The federation: organisations, their networks, contacts and internet-facing hosts."""

from bastion.orgs.csvio import (
    FORMATS,
    ImportReport,
    export_organisations,
    import_organisations,
    read_organisations,
)
from bastion.orgs.domain import (
    Contact,
    Host,
    Organisation,
    OrgType,
    parse_cidr,
    parse_email,
    parse_hostname,
)
from bastion.orgs.service import (
    add_contact,
    add_host,
    add_network,
    all_networks,
    contact_emails,
    count_organisations,
    get_organisation,
    list_organisations,
    organisation_ids,
    organisation_names,
    save_organisation,
    save_organisations,
)

__all__ = [
    "FORMATS",
    "Contact",
    "Host",
    "ImportReport",
    "OrgType",
    "Organisation",
    "add_contact",
    "add_host",
    "add_network",
    "all_networks",
    "contact_emails",
    "count_organisations",
    "export_organisations",
    "get_organisation",
    "import_organisations",
    "list_organisations",
    "organisation_ids",
    "organisation_names",
    "parse_cidr",
    "parse_email",
    "parse_hostname",
    "read_organisations",
    "save_organisation",
    "save_organisations",
]
