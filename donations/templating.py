"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from donations.models import Role
from donations.money import format_money


def format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    """Format an aware UTC timestamp for display; blank for None."""
    return value.strftime(fmt) if value else ""


def format_date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


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
