"""The organisations on one deployment: creating them and listing them.

Each organisation's own rows are walled off by ``donations.tenancy``; this module
works on the ``organization`` table itself, which every organisation may read
(names and slugs only leave it through the coalition's pages and the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, func, select

from donations.extensions import db
from donations.models import Membership, Organization, PlanStatus, RecurringPlan, User, utcnow
from donations.money import is_currency_code
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.links import organization_url
from donations.services.org_slugs import check_slug, remember_organization_path
from donations.services.sql_json import read_json_rows
from donations.tenancy import (
    HOME_ORGANIZATION_ID,
    current_organization_id,
    set_organization,
    use_organization,
)

LEGAL_NAME_MAX = Organization.__table__.c.legal_name.type.length


@dataclass(frozen=True)
class OrganizationLine:
    id: int
    slug: str
    legal_name: str
    archived_at: datetime | None

    @property
    def is_home(self) -> bool:
        return self.id == HOME_ORGANIZATION_ID


def list_organizations(*, include_archived: bool = True) -> list[OrganizationLine]:
    """Every organisation, the first (home) one first, then by id."""
    query = select(
        Organization.id, Organization.slug, Organization.legal_name, Organization.archived_at
    ).order_by(Organization.id)
    if not include_archived:
        query = query.where(Organization.archived_at.is_(None))
    return [OrganizationLine(*row) for row in db.session.execute(query)]


@dataclass(frozen=True)
class SwitchChoice:
    organization_id: int
    legal_name: str
    url: str
    current: bool


def start_endpoint(role: str) -> str:
    """Where a member of this role starts: a partner login at its requests."""
    return "partner_requests.index" if role == "partner" else "main.dashboard"


# The switcher's rows, read on every signed-in page of a member of several organisations:
# a Core statement built once, run on the session's connection without loading ORM objects.
_SWITCH_ROWS = (
    select(Membership.organization_id, Membership.role, Organization.legal_name, Organization.slug)
    .join(Organization, Organization.id == Membership.organization_id)
    .where(
        Membership.user_id == bindparam("user_id"),
        Membership.active.is_(True),
        Organization.archived_at.is_(None),
    )
    .order_by(Membership.organization_id)
)


def switch_choices(user: User) -> list[SwitchChoice]:
    """The open organisations the user is an active member of, to switch between (their
    names only: the coalition knows its members). One query: the memberships with their
    organisations' names and slugs, the slugs kept for the links."""
    remembered = user.remembered_switch_rows  # read with the session: no query
    if remembered is not None:
        rows = sorted(read_json_rows(remembered))  # in the organisations' order
    else:
        rows = db.session.connection().execute(_SWITCH_ROWS, {"user_id": user.id}).all()
    here = current_organization_id()
    choices = []
    for org_id, role, legal_name, slug in rows:
        remember_organization_path(org_id, slug)
        choices.append(
            SwitchChoice(
                organization_id=org_id,
                legal_name=legal_name or slug,
                url=organization_url(org_id, start_endpoint(role)),
                current=org_id == here,
            )
        )
    return choices


def find_organization(slug: str) -> Organization | None:
    """The organisation with ``slug`` (archived ones too), or None."""
    return db.session.scalar(select(Organization).where(Organization.slug == slug.lower()))


def find_organization_by_host(host: str) -> Organization | None:
    """The organisation an admin mapped ``host`` to, or None."""
    return db.session.scalar(select(Organization).where(Organization.host == host.lower()))


OPEN_PLAN_STATUSES = (PlanStatus.ACTIVE, PlanStatus.PAST_DUE, PlanStatus.INCOMPLETE)


def archive_organization(*, actor: User | None, slug: str) -> Organization:
    """Close an organisation's pages and sign-ins; its records are kept.

    Refused for the first organisation (it owns the root paths) and while the
    organisation has monthly gifts still running: cancel them first, or donors would
    keep being charged by an organisation nobody can reach.
    """
    org = find_organization(slug)
    if org is None:
        raise NotFound(f"No organisation has the slug {slug.strip().lower()!r}.")
    if org.archived_at is not None:
        raise NotAllowed(f"{org.legal_name} is already archived.")
    if org.id == HOME_ORGANIZATION_ID:
        raise NotAllowed("The first organisation keeps the root addresses and cannot be archived.")
    with use_organization(org.id):
        open_plans = db.session.scalar(
            select(func.count())
            .select_from(RecurringPlan)
            .where(RecurringPlan.status.in_(OPEN_PLAN_STATUSES))
        )
        if open_plans:
            raise NotAllowed(
                f"{org.legal_name} has {open_plans} monthly gift"
                f"{'' if open_plans == 1 else 's'} still running: cancel "
                f"{'it' if open_plans == 1 else 'them'} before archiving."
            )
        org.archived_at = utcnow()
        record_audit(
            actor=actor,
            action="organization.archive",
            object_type="organization",
            object_id=org.id,
            summary=f"{org.legal_name} ({org.slug}) archived",
        )
    db.session.flush()
    return org


def use_organization_of(slug: str) -> bool:
    """Make the open organisation with ``slug`` the current one; False when there is none."""
    org = find_organization(slug)
    if org is None or org.archived_at is not None:
        return False
    set_organization(org.id)
    return True


def create_organization(
    *,
    actor: User | None,
    slug: str,
    legal_name: str,
    default_currency: str = "USD",
    fiscal_year_start_month: int = 1,
) -> Organization:
    """Add an organisation with its own slug; its profile is completed on its settings page.

    The first organisation is the one whose profile was saved first (it owns the rows
    that existed before there were several), so another can only be added after it.
    """
    legal_name = legal_name.strip()
    if not legal_name:
        raise InvalidInput("Enter the organisation's legal name.", field="legal_name")
    if len(legal_name) > LEGAL_NAME_MAX:
        raise InvalidInput(
            f"Keep the legal name to {LEGAL_NAME_MAX} characters.", field="legal_name"
        )
    currency = default_currency.strip().upper()
    if not is_currency_code(currency):
        raise InvalidInput(
            "Enter a three-letter ISO 4217 currency code, such as USD or EUR.",
            field="default_currency",
        )
    if not 1 <= fiscal_year_start_month <= 12:
        raise InvalidInput("Choose a month from 1 to 12.", field="fiscal_year_start_month")
    if db.session.get(Organization, HOME_ORGANIZATION_ID) is None:
        raise NotAllowed(
            "Save the first organisation's profile (Settings → Organisation) before adding "
            "another: the records already here belong to it."
        )
    slug = check_slug(slug)
    org = Organization(
        slug=slug,
        legal_name=legal_name,
        default_currency=currency,
        fiscal_year_start_month=fiscal_year_start_month,
        require_two_factor=current_app.config["TWO_FACTOR_REQUIRED_BY_DEFAULT"],
    )
    db.session.add(org)
    db.session.flush()
    with use_organization(org.id):
        record_audit(
            actor=actor,
            action="organization.create",
            object_type="organization",
            object_id=org.id,
            summary=f"{legal_name} ({slug})",
        )
    return org
