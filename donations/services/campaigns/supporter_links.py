"""The signed links a supporter uses instead of a password, as volunteers' are.

Two kinds, each with its own salt and time limit: the link that confirms the email given
when the page was made (7 days, bound to that address) and the link to the supporter's
dashboard (30 days; mailed again when the email is confirmed and with every gift through
the page). Each names the organisation and the page; a link that is tampered with,
expired, for another organisation or for no page is simply not found.
"""

from __future__ import annotations

from datetime import timedelta

from donations.extensions import db
from donations.models import SupporterPage, SupporterPageStatus
from donations.services.links import absolute_url
from donations.services.signed_links import load_list, row_id, serializer
from donations.tenancy import current_organization_id

PAGE_SALT = "donations.supporter-page"
CONFIRM_SALT = "donations.supporter-confirm"
PAGE_LINK_MAX_AGE = int(timedelta(days=30).total_seconds())
CONFIRM_LINK_MAX_AGE = int(timedelta(days=7).total_seconds())


def _lookup(data: list | None, size: int) -> SupporterPage | None:
    page_id = 0
    if data is not None and len(data) == size and data[0] == current_organization_id():
        page_id = row_id(data[1])
    return db.session.get(SupporterPage, page_id)  # one lookup on every path


def dashboard_token(page: SupporterPage) -> str:
    """A token for the supporter's dashboard of this page."""
    return serializer(PAGE_SALT).dumps([page.organization_id, page.id])


def dashboard_url(page: SupporterPage) -> str:
    return absolute_url("supporter_public.dashboard", token=dashboard_token(page))


def confirm_token(page: SupporterPage) -> str:
    """A token for the link that confirms the supporter's email (bound to that address)."""
    return serializer(CONFIRM_SALT).dumps([page.organization_id, page.id, page.email])


def confirm_url(page: SupporterPage) -> str:
    return absolute_url("supporter_public.confirm", token=confirm_token(page))


def page_for_dashboard(token: str) -> SupporterPage | None:
    """The page a dashboard link names, once its email is confirmed; else None."""
    page = _lookup(load_list(token, PAGE_SALT, PAGE_LINK_MAX_AGE), 2)
    if page is None or page.status == SupporterPageStatus.UNVERIFIED:
        return None
    return page


def page_to_confirm(token: str) -> SupporterPage | None:
    """The page a confirmation link names, if the address is still the page's."""
    data = load_list(token, CONFIRM_SALT, CONFIRM_LINK_MAX_AGE)
    page = _lookup(data, 3)
    if page is None or data is None or page.email != data[2]:
        return None
    return page
