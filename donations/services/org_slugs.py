"""Organisation slugs: the URL-safe names under which an organisation's pages live."""

from __future__ import annotations

import re
import unicodedata

from flask import g
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Organization
from donations.services.errors import InvalidInput
from donations.tenancy import HOME_ORGANIZATION_ID

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])$")
SLUG_RULE = (
    "Use 2 to 60 lower-case letters, digits and hyphens, starting and ending with a "
    "letter or digit, e.g. harbor-light."
)


def slugify(text: str) -> str:
    """Return ``text`` as a slug: "Harbor Light Shelter, Inc." -> "harbor-light-shelter-inc"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].rstrip("-")


def check_slug(slug: str, *, field: str = "slug") -> str:
    """Return ``slug`` trimmed and lower-cased; raise InvalidInput if it is not URL-safe
    or another organisation has it."""
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise InvalidInput(SLUG_RULE, field=field)
    if slug_taken(slug):
        raise InvalidInput(f"Another organisation already uses the slug {slug!r}.", field=field)
    return slug


def slug_taken(slug: str) -> bool:
    return db.session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None


def free_slug(name: str) -> str:
    """Return a slug made from ``name`` that no organisation has yet."""
    base = slugify(name)
    if len(base) < 2:
        base = "org"
    slug, n = base, 2
    while slug_taken(slug):
        suffix = f"-{n}"
        slug, n = base[: 60 - len(suffix)] + suffix, n + 1
    return slug


def organization_address(organization_id: int) -> tuple[str | None, str]:
    """Where an organisation's addresses live: (its own host name or None, the path they
    start with). The first organisation: (None, "") -- the root paths; another: (None,
    "/o/<slug>"), or (host, "") once an admin mapped a host name to it. Read once per
    request or job."""
    if organization_id == HOME_ORGANIZATION_ID:
        return None, ""
    cache = g.setdefault("organization_addresses", {})
    if organization_id not in cache:
        row = db.session.execute(
            select(Organization.slug, Organization.host).where(Organization.id == organization_id)
        ).first()
        if row is None:
            raise LookupError(f"no organisation has id {organization_id}")
        slug, host = row
        cache[organization_id] = (host, "") if host else (None, f"/o/{slug}")
    return cache[organization_id]


def remember_organization_path(organization_id: int, slug: str) -> None:
    """Keep, for this request or job, the path of an organisation whose slug a query
    already read (``organization_path`` then needs no query of its own)."""
    if organization_id != HOME_ORGANIZATION_ID:
        g.setdefault("organization_paths", {})[organization_id] = f"/o/{slug}"


def organization_path(organization_id: int) -> str:
    """The path an organisation's addresses start with on the site's own address: "" for
    the first (the root paths), "/o/<slug>" for the others."""
    if organization_id == HOME_ORGANIZATION_ID:
        return ""
    cache = g.setdefault("organization_paths", {})
    if organization_id not in cache:
        slug = db.session.scalar(
            select(Organization.slug).where(Organization.id == organization_id)
        )
        if slug is None:
            raise LookupError(f"no organisation has id {organization_id}")
        cache[organization_id] = f"/o/{slug}"
    return cache[organization_id]


def several_organizations() -> bool:
    """Whether more than one organisation is on this deployment (read once per request or
    job): reads that can skip their organisation filter on a single-shelter install ask."""
    if "several_organizations" not in g:
        count = db.session.scalar(select(func.count()).select_from(Organization))
        g.several_organizations = (count or 0) > 1
    return g.several_organizations
