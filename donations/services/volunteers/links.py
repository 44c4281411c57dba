"""The signed links a volunteer uses instead of a password.

Two kinds, each with its own salt and time limit: the link that confirms the email
given at sign-up (7 days) and the link to the volunteer's own page (30 days; mailed
again on request, on approval, with each shift sign-up and reminder). Each names the
organisation and the volunteer; a link that is tampered with, expired, for another
organisation or for no one is simply not found.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from donations.extensions import db
from donations.models import Volunteer, VolunteerStatus
from donations.services.links import absolute_url
from donations.services.signed_links import load_list, row_id, serializer
from donations.tenancy import current_organization_id

PAGE_SALT = "donations.volunteer-page"
CONFIRM_SALT = "donations.volunteer-confirm"
PAGE_LINK_MAX_AGE = int(timedelta(days=30).total_seconds())
CONFIRM_LINK_MAX_AGE = int(timedelta(days=7).total_seconds())


def page_token(volunteer: Volunteer) -> str:
    """A token for the volunteer's own page."""
    return serializer(PAGE_SALT).dumps([volunteer.organization_id, volunteer.id])


def page_url(volunteer: Volunteer) -> str:
    return absolute_url("volunteer_public.my_page", token=page_token(volunteer))


def confirm_token(volunteer: Volunteer) -> str:
    """A token for the link that confirms the volunteer's email (bound to that address)."""
    return serializer(CONFIRM_SALT).dumps(
        [volunteer.organization_id, volunteer.id, volunteer.email]
    )


def confirm_url(volunteer: Volunteer) -> str:
    return absolute_url("volunteer_public.confirm", token=confirm_token(volunteer))


def _lookup(data: list | None, size: int) -> Volunteer | None:
    volunteer_id = 0
    if data is not None and len(data) == size and data[0] == current_organization_id():
        volunteer_id = row_id(data[1])
    return db.session.get(Volunteer, volunteer_id)  # one lookup on every path


def volunteer_for_token(token: str) -> Volunteer | None:
    """The volunteer a page link names, once their email is confirmed; else None."""
    age = int(current_app.config.get("VOLUNTEER_LINK_MAX_AGE", PAGE_LINK_MAX_AGE))
    volunteer = _lookup(load_list(token, PAGE_SALT, age), 2)
    if volunteer is None or volunteer.status == VolunteerStatus.UNVERIFIED:
        return None
    return volunteer


def volunteer_to_confirm(token: str) -> Volunteer | None:
    """The volunteer a confirmation link names, if it is still their address."""
    data = load_list(token, CONFIRM_SALT, CONFIRM_LINK_MAX_AGE)
    volunteer = _lookup(data, 3)
    if volunteer is None or data is None or volunteer.email != data[2]:
        return None
    return volunteer
