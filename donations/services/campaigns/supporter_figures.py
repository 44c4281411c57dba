"""What a supporter's page has raised, who gave through it, and each campaign's pages
side by side.

The same rule as the campaign's own total (``progress.py``): paid gifts through the page
in its currency, net of refunds and disputes, summed in SQL in integer cents; donors are
the distinct donors of gifts they still stand behind. Gifts through a page also carry
its campaign, so every cent a page shows is in the campaign's total too.

Who gave is told by first name only, and only for gifts that are not anonymous; an
amount only where the donor ticked "show the amount to the fundraiser"; never an email.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, distinct, func, select

from donations.extensions import db
from donations.models import (
    Campaign,
    Donor,
    Gift,
    GiftStatus,
    SupporterPage,
    SupporterPageStatus,
)
from donations.money import format_plain
from donations.services.campaigns.progress import RAISED, giving_gifts
from donations.services.csv_text import FORMULA_FIRST, csv_head, csv_line

ANONYMOUS = "Anonymous"


@dataclass(frozen=True)
class PageProgress:
    raised_cents: int
    goal_cents: int
    currency: str
    donors: int

    @property
    def percent(self) -> int:
        if not self.goal_cents or self.raised_cents <= 0:
            return 0
        return min(100, self.raised_cents * 100 // self.goal_cents)


@dataclass(frozen=True)
class PageTotal:
    page: SupporterPage
    raised_cents: int
    donors: int

    @property
    def percent(self) -> int:
        return PageProgress(self.raised_cents, self.page.goal_cents, "", 0).percent


@dataclass(frozen=True)
class GiftLine:
    """One gift through the page as its supporter sees it."""

    received_at: datetime
    first_name: str  # "Anonymous" for an anonymous gift
    amount_cents: int | None  # None unless the donor agreed to show it


def first_name(name: str) -> str:
    parts = (name or "").split()
    return parts[0] if parts else ANONYMOUS


def _through(page_ids: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(
        page_ids,
        Gift.status == GiftStatus.PAID,
        Gift.currency == SupporterPage.currency,
        SupporterPage.id == Gift.supporter_page_id,
    )


def page_progress(page: SupporterPage) -> PageProgress:
    """The page's raised total against its goal, and its donors, in one query."""
    row = db.session.execute(
        select(
            func.coalesce(func.sum(RAISED), 0),
            func.count(distinct(case((giving_gifts(), Gift.donor_id)))),
        )
        .select_from(Gift)
        .join(SupporterPage, SupporterPage.id == Gift.supporter_page_id)
        .where(_through(Gift.supporter_page_id == page.id))
    ).one()
    return PageProgress(int(row[0]), page.goal_cents, page.currency, int(row[1]))


def public_donor_names(page: SupporterPage, *, limit: int = 50) -> list[str]:
    """First names of the page's donors whose gifts are not anonymous, newest first,
    each donor once."""
    rows = db.session.execute(
        select(Donor.name, func.max(Gift.received_at).label("last"))
        .select_from(Gift)
        .join(SupporterPage, SupporterPage.id == Gift.supporter_page_id)
        .join(Donor, Donor.id == Gift.donor_id)
        .where(
            _through(Gift.supporter_page_id == page.id),
            giving_gifts(),
            Gift.is_anonymous.is_(False),
        )
        .group_by(Donor.id, Donor.name)
        .order_by(func.max(Gift.received_at).desc(), Donor.id.desc())
        .limit(limit)
    )
    return [first_name(name) for name, _last in rows]


def supporter_gift_lines(page: SupporterPage, *, limit: int = 200) -> list[GiftLine]:
    """The gifts through the page, newest first, as its own supporter may see them."""
    rows = db.session.execute(
        select(Gift.received_at, Gift.is_anonymous, Gift.shares_amount, Donor.name, RAISED)
        .select_from(Gift)
        .join(SupporterPage, SupporterPage.id == Gift.supporter_page_id)
        .join(Donor, Donor.id == Gift.donor_id)
        .where(_through(Gift.supporter_page_id == page.id), giving_gifts())
        .order_by(Gift.received_at.desc(), Gift.id.desc())
        .limit(limit)
    )
    return [
        GiftLine(
            received_at=received,
            first_name=ANONYMOUS if anonymous else first_name(name),
            amount_cents=int(raised) if shares else None,
        )
        for received, anonymous, shares, name, raised in rows
    ]


def campaign_page_totals(
    campaign: Campaign, *, public_only: bool = True, limit: int | None = None
) -> list[PageTotal]:
    """The campaign's pages (approved ones, or every confirmed one for the report) with
    what each raised and its donors, the most raised first."""
    statuses = (
        [SupporterPageStatus.APPROVED]
        if public_only
        else [
            SupporterPageStatus.APPROVED,
            SupporterPageStatus.HIDDEN,
            SupporterPageStatus.PENDING,
            SupporterPageStatus.DECLINED,
        ]
    )
    raised = func.coalesce(func.sum(case((Gift.id.is_not(None), RAISED), else_=0)), 0)
    donors = func.count(distinct(case((and_(Gift.id.is_not(None), giving_gifts()), Gift.donor_id))))
    query = (
        select(SupporterPage, raised, donors)
        .outerjoin(
            Gift,
            and_(
                Gift.supporter_page_id == SupporterPage.id,
                Gift.status == GiftStatus.PAID,
                Gift.currency == SupporterPage.currency,
            ),
        )
        .where(
            SupporterPage.campaign_id == campaign.id,
            SupporterPage.status.in_([s.value for s in statuses]),
        )
        .group_by(SupporterPage.id)
        .order_by(raised.desc(), SupporterPage.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [PageTotal(page, int(r), int(d)) for page, r, d in db.session.execute(query)]


PAGES_CSV_HEADER = (
    "Page",
    "Supporter",
    "Status",
    "Address",
    "Currency",
    "Goal",
    "Raised",
    "Donors",
)


def _text(value: str) -> str:
    return "'" + value if value.startswith(tuple(FORMULA_FIRST)) else value


def page_totals_csv(totals: list[PageTotal]) -> Iterator[str]:
    """A campaign's supporters' pages as CSV: one line per page, the most raised first."""
    yield csv_head(PAGES_CSV_HEADER)
    for t in totals:
        page = t.page
        yield csv_line(
            (
                _text(page.title),
                _text(page.supporter_name),
                SupporterPageStatus(page.status).value,
                page.slug,
                page.currency,
                format_plain(page.goal_cents, page.currency),
                format_plain(t.raised_cents, page.currency),
                t.donors,
            )
        )
