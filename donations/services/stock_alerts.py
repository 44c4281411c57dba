"""Low-stock mail: a site's contact hears once when an item falls under par.

The daily digest of everything still under par is ``services/stock_digest.py``; both
name sites only, never an address (a confidential shelter's is never mailed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from donations.extensions import db
from donations.models import Item, Site, StockLevel
from donations.services.links import absolute_url
from donations.services.mail import queue_mail


def level_line(item: Item, level: StockLevel) -> str:
    """One item under par, as the low-stock mails list it."""
    return f"- {item.label}: {level.on_hand} {item.unit} on hand, par {level.par_level}"


def queue_low_stock_alerts(levels: Sequence[StockLevel]) -> int:
    """Queue one email per site listing the items that just fell under par.

    The caller has already marked each level as alerted, so later movements
    that keep it under par send nothing more until it is back at par.
    Returns the number of messages queued.
    """
    by_site: dict[int, list[StockLevel]] = defaultdict(list)
    for level in levels:
        by_site[level.site_id].append(level)
    queued = 0
    for site_id, site_levels in by_site.items():
        site = db.session.get(Site, site_id)
        if site is None or not site.contact_email:
            continue
        lines = [
            f"These items fell under their par level at {site.name}:",
            "",
        ]
        for level in sorted(site_levels, key=lambda lv: db.session.get(Item, lv.item_id).name):
            lines.append(level_line(db.session.get(Item, level.item_id), level))
        lines += [
            "",
            'They now appear on the public "What we need now" list (without the site or '
            "quantities).",
            f"Stock at this site: {absolute_url('inventory.stock', site=site.id)}",
            "",
            "You get this message once each time an item falls under par, not for every movement.",
        ]
        count = len(site_levels)
        queue_mail(
            kind="low_stock",
            to=site.contact_email,
            subject=f"Low stock at {site.name}: {count} item{'' if count == 1 else 's'} under par",
            body_text="\n".join(lines) + "\n",
        )
        queued += 1
    return queued
