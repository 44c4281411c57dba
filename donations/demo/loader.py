"""Loading the demo: the organisation, users, donors, goods, gifts, and when donors were added."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from donations.demo.campaigns import load_demo_campaigns
from donations.demo.goods import load_demo_goods
from donations.demo.member import load_demo_member
from donations.demo.people import (
    DEMO_DONORS,
    DEMO_ORGANIZATION,
    DEMO_PARTNER,
    DEMO_PARTNER_AGENCY,
    DEMO_USERS,
)
from donations.demo.supporter_pages import load_demo_supporter_pages
from donations.demo.volunteers import load_demo_volunteers
from donations.demo.year import Year
from donations.extensions import db
from donations.models import Donor, Gift, Item, Pledge, Recipient, Role, StockDocument, User
from donations.services import accounts, donors, giving, partner_requests
from donations.services.organization import update_organization


def load_demo() -> None:
    """Add the demo organisation, users, donors, funds, goods and gifts in this transaction."""
    # Off in the demo, so anyone can try it with the printed passwords; the
    # dashboard tells admins so.
    update_organization(
        actor=None, require_two_factor=False, shares_figures=True, **DEMO_ORGANIZATION
    )
    for email, name, role, password in DEMO_USERS:
        accounts.create_user(actor=None, email=email, name=name, role=role, password=password)
    people = [donors.create_donor(actor=None, **fields) for fields in DEMO_DONORS]
    load_demo_goods(donors=people)
    _partner_asks()
    funds = giving.ensure_default_funds()
    treasurer = next(u for u in _users() if u.role == Role.TREASURER)
    year = Year(people, funds, treasurer)
    year.tell()
    _date_donors()
    load_demo_campaigns(treasurer)
    load_demo_supporter_pages(year, treasurer)
    year.this_week()
    load_demo_volunteers()
    load_demo_member()


def _partner_asks() -> None:
    """The partner agency's login, with one open request for staff to answer."""
    email, name, role, password = DEMO_PARTNER
    agency = db.session.scalar(select(Recipient).where(Recipient.name == DEMO_PARTNER_AGENCY))
    partner = accounts.create_user(
        actor=None, email=email, name=name, role=role, password=password, recipient_id=agency.id
    )
    items = db.session.scalars(
        select(Item).where(Item.active.is_(True), Item.is_kit.is_(False)).order_by(Item.id).limit(2)
    )
    partner_requests.create_request(
        actor=partner,
        lines=[partner_requests.AskedLine(item.id, 6) for item in items],
        note="Supplies for the clinic's walk-in hours",
    )


def _date_donors() -> None:
    """Each donor was added when they first gave, not on the day the demo was loaded.

    A donor who has given nothing yet (money or goods) was added a few days
    before their first pledge, or, with none, on a day spread over the year.
    """
    first_gift = dict(
        db.session.execute(
            select(Gift.donor_id, func.min(Gift.received_at)).group_by(Gift.donor_id)
        ).all()
    )
    first_goods = dict(
        db.session.execute(
            select(StockDocument.donor_id, func.min(StockDocument.effective_date))
            .where(StockDocument.donor_id.is_not(None))
            .group_by(StockDocument.donor_id)
        ).all()
    )
    first_pledge = dict(
        db.session.execute(
            select(Pledge.donor_id, func.min(Pledge.created_at)).group_by(Pledge.donor_id)
        ).all()
    )
    now = datetime.now(UTC)
    for n, donor in enumerate(db.session.scalars(select(Donor).order_by(Donor.id))):
        moments = [first_gift.get(donor.id)]
        goods_day = first_goods.get(donor.id)
        if goods_day is not None:
            moments.append(datetime(goods_day.year, goods_day.month, goods_day.day, 9, tzinfo=UTC))
        pledged = first_pledge.get(donor.id)
        if pledged is not None:
            moments.append(pledged - timedelta(days=3))
        known = [m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments if m is not None]
        first = min(known) if known else now - timedelta(days=(n * 37) % 330 + 5)
        # A minute before: the record is made, then the gift is entered against it.
        donor.created_at = min(first, now) - timedelta(minutes=1)
        donor.updated_at = donor.created_at
    db.session.flush()


def _users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.id)))
