"""The daily low-stock digest: each site contact gets one mail a day listing what is under par.

Who gets it: the address a site names as its contact ("who hears when an item falls under
par here") is the opt-in the app already has; a contact of several sites gets one digest
covering all of them. A digest goes out only when something is under par, and at most once
per address and day: a ``DigestSend`` row (unique on kind, address and day) is written in the
same transaction as the mail, so a second run the same day, or two at once, sends nothing.
Sites are named, never addressed: a confidential shelter's address is not mailed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from donations.extensions import db
from donations.models import DigestSend, Site, StockLevel
from donations.services.inventory import under_par_query
from donations.services.links import absolute_url
from donations.services.locking import serialize_writes
from donations.services.mail import queue_mail
from donations.services.stock_alerts import level_line

DIGEST_KIND = "low_stock_digest"


@dataclass(frozen=True)
class SiteShortage:
    """One open site and its items under par, in catalog order."""

    site: Site
    levels: list[StockLevel]


def shortages_by_contact() -> dict[str, list[SiteShortage]]:
    """Every contact address with the sites it speaks for that have something under par."""
    levels = db.session.scalars(
        under_par_query().options(joinedload(StockLevel.site), joinedload(StockLevel.item))
    ).all()
    by_site: dict[int, list[StockLevel]] = defaultdict(list)
    for level in levels:
        if level.site.contact_email:
            by_site[level.site_id].append(level)
    by_contact: dict[str, list[SiteShortage]] = defaultdict(list)
    for site_levels in by_site.values():
        site = site_levels[0].site
        ordered = sorted(site_levels, key=lambda lv: (lv.item.name, lv.item.size, lv.item_id))
        by_contact[site.contact_email.strip().lower()].append(SiteShortage(site, ordered))
    for shortages in by_contact.values():
        shortages.sort(key=lambda s: s.site.name)
    return dict(by_contact)


def already_sent(to_addr: str, day: date) -> bool:
    """True when the digest for ``day`` has gone (been queued) to ``to_addr``."""
    return (
        db.session.scalar(
            select(DigestSend.id).where(
                DigestSend.kind == DIGEST_KIND,
                DigestSend.to_addr == to_addr,
                DigestSend.sent_on == day,
            )
        )
        is not None
    )


def _stock_link(site_id: int | None) -> str:
    if site_id is None:
        return absolute_url("inventory.stock", show="under")
    return absolute_url("inventory.stock", site=site_id, show="under")


def _body(shortages: list[SiteShortage], day: date) -> str:
    count = sum(len(s.levels) for s in shortages)
    lines = [f"Items under their par level on {day:%A, %B %-d, %Y}:", ""]
    for shortage in shortages:
        lines.append(f"{shortage.site.name} ({len(shortage.levels)} under par)")
        lines += [level_line(level.item, level) for level in shortage.levels]
        lines.append(f"Stock at this site: {_stock_link(shortage.site.id)}")
        lines.append("")
    lines += [
        f"{count} item{'' if count == 1 else 's'} in all. Everything under par at any site: "
        f"{_stock_link(None)}",
        "",
        "You get this digest once a day while something is under par at a site you are the "
        "contact for; no digest is sent on a day when nothing is.",
    ]
    return "\n".join(lines) + "\n"


def _subject(shortages: list[SiteShortage]) -> str:
    count = sum(len(s.levels) for s in shortages)
    where = shortages[0].site.name if len(shortages) == 1 else f"{len(shortages)} sites"
    return f"Low stock today: {count} item{'' if count == 1 else 's'} under par at {where}"


def send_low_stock_digests(*, day: date) -> int:
    """Queue today's digest for every contact with something under par; return how many.

    Each digest and its ``DigestSend`` row are written in a savepoint: a digest another run
    wrote first for the same address and day is skipped, not sent again.
    """
    serialize_writes(DIGEST_KIND)  # SQLite: a second run reads after the first has written
    queued = 0
    for to_addr, shortages in sorted(shortages_by_contact().items()):
        if already_sent(to_addr, day):
            continue
        try:
            with db.session.begin_nested():
                message = queue_mail(
                    kind=DIGEST_KIND,
                    to=to_addr,
                    subject=_subject(shortages),
                    body_text=_body(shortages, day),
                )
                db.session.add(
                    DigestSend(
                        kind=DIGEST_KIND, to_addr=to_addr, sent_on=day, message_id=message.id
                    )
                )
                db.session.flush()
        except IntegrityError:  # another run sent this one first
            continue
        queued += 1
    return queued
