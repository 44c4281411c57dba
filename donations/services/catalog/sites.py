"""The sites that hold goods (shelters, warehouses, drop-off points) and their par levels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, true

from donations.extensions import db
from donations.models import Item, Site, SiteKind, StockLevel, User
from donations.services import privacy
from donations.services.accounts import normalize_email
from donations.services.audit import describe_changes, record_audit, snapshot
from donations.services.catalog.items import column_limit, items_query
from donations.services.errors import InvalidInput, NotFound

SITE_FIELDS = (
    "name",
    "kind",
    "is_confidential",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "public_hours",
    "contact_email",
    "active",
)


def list_sites(*, include_inactive: bool = True) -> list[Site]:
    query = select(Site).order_by(Site.name)
    if not include_inactive:
        query = query.where(Site.active.is_(True))
    return list(db.session.scalars(query))


def dropoff_points() -> list[Site]:
    """Open public drop-off points, for the pledge form."""
    return list(
        db.session.scalars(
            select(Site)
            .where(Site.kind == SiteKind.DROPOFF, Site.active.is_(True))
            .order_by(Site.name)
        )
    )


def get_site(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound("There is no such site.")
    return site


def _site_values(site: Site | None, values: dict[str, Any]) -> dict[str, Any]:
    clean = dict(values)
    for key in SITE_FIELDS:
        if key in ("is_confidential", "active"):
            clean[key] = bool(clean.get(key))
        elif key != "kind":
            clean[key] = " ".join(str(clean.get(key) or "").split())
            limit = column_limit(Site, key)
            if len(clean[key]) > limit:
                raise InvalidInput(f"Use at most {limit} characters.", field=key)
    if not clean["name"]:
        raise InvalidInput("Enter the site's name.", field="name")
    for key in ("name", "public_hours"):
        privacy.check_free_text(clean.get(key) or "", field=key)
    if clean.get("kind") not in {k.value for k in SiteKind}:
        raise InvalidInput("Choose what kind of site it is.", field="kind")
    if clean["kind"] == SiteKind.DROPOFF and clean["is_confidential"]:
        raise InvalidInput(
            "A public drop-off point cannot be confidential: donors need its address.",
            field="is_confidential",
        )
    if clean["contact_email"]:
        clean["contact_email"] = normalize_email(clean["contact_email"])
        if "@" not in clean["contact_email"] or " " in clean["contact_email"]:
            raise InvalidInput(
                "Enter an email address, such as stock@example.org.", field="contact_email"
            )
    same = select(Site.id).where(func.lower(Site.name) == clean["name"].lower())
    if site is not None and site.id is not None:
        same = same.where(Site.id != site.id)
    if db.session.scalar(same.limit(1)) is not None:
        raise InvalidInput(f"There is already a site called {clean['name']}.", field="name")
    return clean


def create_site(*, actor: User | None, **values: Any) -> Site:
    """Add a shelter, warehouse or drop-off point."""
    values.setdefault("active", True)
    clean = _site_values(None, values)
    site = Site(**{k: clean[k] for k in SITE_FIELDS})
    db.session.add(site)
    db.session.flush()
    record_audit(
        actor=actor,
        action="site.created",
        object_type="site",
        object_id=site.id,
        summary=f"{site.name} ({site.kind}{', confidential' if site.is_confidential else ''})",
    )
    return site


def update_site(*, actor: User | None, site: Site, **values: Any) -> Site:
    """Change a site's details; confidential addresses stay out of every donor page."""
    clean = _site_values(site, {**snapshot(site, SITE_FIELDS), **values})
    before = snapshot(site, SITE_FIELDS)
    for key in SITE_FIELDS:
        setattr(site, key, clean[key])
    db.session.flush()
    redacted = ("address_line1", "address_line2") if site.is_confidential else ()
    changes = describe_changes(before, snapshot(site, SITE_FIELDS), redacted=redacted)
    if changes:
        record_audit(
            actor=actor,
            action="site.updated",
            object_type="site",
            object_id=site.id,
            summary=changes,
        )
    return site


# --- par levels -----------------------------------------------------------------


def par_rows(
    site_id: int, category_id: int | None, shown: list[int]
) -> list[tuple[Item, StockLevel | None]]:
    """The active items of the category, plus the items ``shown`` on the page that was
    posted (even if since made inactive), each with its stock level at the site."""
    query = items_query(category_id=category_id, include_inactive=False)
    if shown:
        listed = (Item.active.is_(True)) & (
            (Item.category_id == category_id) if category_id else true()
        )
        query = items_query().where(listed | Item.id.in_(shown))
    found = list(db.session.scalars(query))
    levels = {
        level.item_id: level
        for level in db.session.scalars(
            select(StockLevel).where(
                StockLevel.site_id == site_id, StockLevel.item_id.in_([i.id for i in found])
            )
        )
    }
    return [(item, levels.get(item.id)) for item in found]
