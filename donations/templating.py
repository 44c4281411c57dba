"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from markupsafe import Markup

from donations.models import Role
from donations.money import format_money


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


def register(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["Role"] = Role

    app.jinja_env.filters["money"] = format_money

    @app.context_processor
    def site_wide():
        from donations.services.organization import current_organization_name
        from donations.services.payments import is_test_mode

        return {"org_name": current_organization_name(), "payments_test_mode": is_test_mode()}
