"""The site a goods form starts on: its choices, and the one this person used last."""

from __future__ import annotations

from flask import session
from wtforms.fields.choices import SelectChoice

from donations.models import Site
from donations.ranges import id_arg

SITE_SESSION_KEY = "goods_site_id"


def site_choices(sites: list[Site], first: str = "Choose a site") -> list[SelectChoice]:
    """The sites as a select's choices, after a blank first choice."""
    return [SelectChoice("", first)] + [
        SelectChoice(site.id, f"{site.name} ({site.kind_label.lower()})") for site in sites
    ]


def default_site_id(sites: list[Site]) -> int | None:
    """The site in ?site_id=, else the last one this person used, else the only one."""
    open_ids = {site.id for site in sites}
    for candidate in (id_arg("site_id"), session.get(SITE_SESSION_KEY)):
        if candidate in open_ids:
            return candidate
    return sites[0].id if len(sites) == 1 else None


def remember_site(site_id: int | None) -> None:
    """Start this person's next goods form on this site."""
    if site_id:
        session[SITE_SESSION_KEY] = site_id
