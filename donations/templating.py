"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g, has_request_context
from flask.globals import request_ctx
from flask_login import current_user
from markupsafe import Markup

from donations.models import Donor, Role
from donations.money import format_money
from donations.services import donors
from donations.services.organization import current_organization_name
from donations.services.organizations import SwitchChoice, switch_choices
from donations.services.payments import test_mode_banner
from donations.services.volunteers import format_minutes


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


def kept_url_for(app: Flask):
    """``url_for`` for templates, keeping the URLs that are the same on every request.

    A page's header links and stylesheet (an endpoint with no values, or a static file)
    were built anew per request, nine builds on the donation page alone. Their URL
    depends only on the endpoint, the file and where the app is mounted (script root,
    subdomain), so it is kept per those; every other call (values, ``_external``,
    ``_anchor``, a blueprint-relative ``.name``, URL defaults) is Flask's own. Paths only:
    absolute URLs still come from PUBLIC_BASE_URL (``services/links.py``).
    """
    build = app.url_for
    kept: dict[tuple, str] = {}

    def url_for(endpoint: str, /, **values) -> str:
        if (
            endpoint[:1] == "."
            or (values and (endpoint != "static" or values.keys() != {"filename"}))
            or app.url_default_functions
            or not has_request_context()
        ):
            return build(endpoint, **values)
        adapter = request_ctx.url_adapter
        key = (adapter.script_name, adapter.subdomain, endpoint, values.get("filename"))
        url = kept.get(key)
        if url is None:
            url = build(endpoint, **values)
            if len(kept) >= 256:  # endpoints x files: never near this; a bound all the same
                kept.clear()
            kept[key] = url
        return url

    return url_for


def kept_stranger_header(app: Flask):
    """``stranger_header(org_name, test_mode)`` for base.html: the header (and test-mode
    banner) of a visitor who is not signed in, drawn from ``_stranger_header.html``.

    It holds nothing of the visitor's: only the organisation's name, whether payments are
    in test mode, and paths that depend on where the app is mounted (the organisation's
    address). It is kept per those and drawn anew when URL defaults could change a path.
    """
    kept: dict[tuple, Markup] = {}

    def draw(org_name: str, test_mode: bool) -> Markup:
        template = app.jinja_env.get_template("_stranger_header.html")
        html = template.render(org_name=org_name, payments_test_mode=test_mode)
        return Markup(html)  # noqa: S704 - an autoescaped template's output

    def stranger_header(org_name: str, test_mode: bool) -> Markup:
        if app.url_default_functions or not has_request_context():
            return draw(org_name, test_mode)
        adapter = request_ctx.url_adapter
        key = (org_name, bool(test_mode), adapter.script_name, adapter.subdomain)
        html = kept.get(key)
        if html is None:
            if len(kept) >= 256:  # organisations x test mode: a bound all the same
                kept.clear()
            html = kept[key] = draw(org_name, test_mode)
        return html

    return stranger_header


def organisation_switch() -> list[SwitchChoice]:
    """The organisations the signed-in user may switch between (none when only one)."""
    if not current_user.is_authenticated or not current_user.several_memberships:
        return []
    return switch_choices(current_user)


def register(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = kept_url_for(app)
    app.jinja_env.globals["stranger_header"] = kept_stranger_header(app)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["Role"] = Role
    app.jinja_env.globals["organisation_switch"] = organisation_switch

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["donor_name"] = donor_name
    app.jinja_env.filters["volunteer_hours"] = format_minutes

    @app.context_processor
    def site_wide():
        # The banner first: its read holds the organisation profile the name comes from.
        test_mode = test_mode_banner()
        return {"org_name": current_organization_name(), "payments_test_mode": test_mode}
