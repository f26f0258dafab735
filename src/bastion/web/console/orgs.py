"""The console's organisation pages: the federation list and one organisation."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from bastion import orgs
from bastion.web.console.alerts import recent_alerts
from bastion.web.console.holdings import organisation_holdings
from bastion.web.console.paging import Page, paging
from bastion.web.console.view import View
from bastion.web.deps import SearchQuery, find_organisation, visible_organisations
from bastion.web.rendering import org_type_label

PAGE_SIZE = 50
# Children listed on an organisation's page; the rest are one click away in the filtered list.
CHILDREN_SHOWN = 100

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Orgs = Annotated[View, Depends(View.of("orgs"))]


@router.get("/", name="org_list")
def org_list(
    view: Orgs,
    search: SearchQuery = "",
    type: Annotated[str, Query(max_length=32)] = "",
    parent: Annotated[str, Query(max_length=16)] = "",
    page: Page = 1,
) -> HTMLResponse:
    """Show the federation's organisations, filtered, sorted by code, 50 a page."""
    session, scope = view.session, view.scope
    search = search.strip()
    org_type = orgs.OrgType.parse(type) if type else None
    parent_org = find_organisation(session, parent, scope) if parent else None
    found, total = visible_organisations(
        session,
        scope,
        search=search or None,
        type=org_type,
        parent=parent_org.code if parent_org else None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    type_value = org_type.value if org_type else ""
    parent_code = parent_org.code if parent_org else ""
    params = {"search": search, "type": type_value, "parent": parent_code}
    return view.render(
        "orgs/list.html",
        organisations=found,
        federation_total=(
            orgs.count_organisations(session)
            if scope.national
            else visible_organisations(session, scope, limit=1)[1]
        ),
        **paging(view.request, page, total, len(found), size=PAGE_SIZE, params=params),
        search=search,
        type=type_value,
        types={t.value: org_type_label(t) for t in orgs.OrgType},
        parent=parent_org,
        filtered=bool(search or org_type or parent_org),
    )


@router.get("/orgs/{code}", name="org_page")
def org_page(
    code: str,
    view: Orgs,
    imported: Annotated[int | None, Query(ge=0, le=10**9)] = None,
) -> HTMLResponse:
    """Show one organisation: its parent, children, networks, contacts, hosts and holdings.

    A member sees its parent's code but not its page, and only the children it may see.
    """
    session, scope = view.session, view.scope
    org = find_organisation(session, code, scope)
    parent = (
        find_organisation(session, org.parent, scope)
        if org.parent and scope.allows(org.parent)
        else None
    )
    children, child_total = visible_organisations(
        session, scope, parent=org.code, limit=CHILDREN_SHOWN
    )
    return view.render(
        "orgs/show.html",
        org=org,
        parent=parent,
        children=children,
        child_total=child_total,
        children_link=f"{view.path('org_list')}?{urlencode({'parent': org.code})}",
        **recent_alerts(session, org.code, scope=scope.codes),
        **organisation_holdings(session, view.principal, org.code),
        imported=imported,
    )
