"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g
from flask_login import current_user
from markupsafe import Markup

from donations.models import Donor, Role
from donations.money import format_money
from donations.services import donors
from donations.services.organization import current_organization_name
from donations.services.payments import is_test_mode


def _time(value: date | datetime, text: str) -> Markup:
    # A <time> element, machine-readable; its first word (the day) stays on one line,
    # so that a narrow table column never splits "2026-12-02" at its hyphens.
    day, space, rest = text.partition(" ")
    return Markup('<time datetime="{}"><span class="nowrap">{}</span>{}{}</time>').format(
        value.isoformat(), day, space, rest
    )


def format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> Markup | str:
    """Format an aware UTC timestamp for display; blank for None."""
    return _time(value, value.strftime(fmt)) if value else ""


def format_date(value: date | datetime | None) -> Markup | str:
    """Format a day (or the day of a timestamp) as YYYY-MM-DD; blank for None."""
    if not value:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    return _time(day, value.strftime("%Y-%m-%d"))


def donor_name(donor: Donor | None) -> str:
    """A donor's name as the signed-in user may see it: staff see "Anonymous donor #id"."""
    if donor is None:
        return ""
    role = getattr(current_user, "role", None)
    if donors.sees_donor_names(role):
        return donor.name
    if "anonymous_donor_ids" not in g:
        g.anonymous_donor_ids = donors.anonymous_donor_ids()
    if donor.id in g.anonymous_donor_ids:
        return donors.anonymous_label(donor.id)
    return donor.name


def register(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["Role"] = Role

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["donor_name"] = donor_name

    @app.context_processor
    def site_wide():
        return {"org_name": current_organization_name(), "payments_test_mode": is_test_mode()}
