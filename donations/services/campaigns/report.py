"""The campaign report (treasurer and admin): per campaign, what was raised and by whom,
new against returning donors, the average gift, monthly against one-time, goods
collected against their goals, and raised per day; the same as CSV."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select

from donations.extensions import db
from donations.models import Campaign, Donor, Frequency, Gift, GiftStatus
from donations.money import format_plain
from donations.services.campaigns.progress import (
    RAISED,
    GoodsLine,
    counted_gifts,
    giving_gifts,
    goods_lines,
)
from donations.services.campaigns.rules import list_campaigns, today
from donations.services.csv_text import FORMULA_FIRST, csv_head, csv_line

CHART_DAYS_MAX = 366


@dataclass(frozen=True)
class GiftLine:
    """One gift counted towards the campaign, as the report lists it."""

    id: int
    received_at: datetime
    donor_id: int
    donor_name: str
    frequency: str
    amount_cents: int
    returned_cents: int
    raised_cents: int
    is_reversal: bool
    appeal_code: str = ""


@dataclass(frozen=True)
class AppealRow:
    """The campaign's gifts that answered one appeal code ("" for none)."""

    code: str
    gift_count: int  # lines, reversals included
    raised_cents: int


@dataclass(frozen=True)
class DayRow:
    day: date
    raised_cents: int


@dataclass(frozen=True)
class CampaignFigures:
    campaign: Campaign
    currency: str
    raised_cents: int
    gift_count: int  # gifts donors stand behind (not reversals, reversed or fully refunded)
    donors: int
    new_donors: int
    returning_donors: int
    average_cents: int  # raised / gift_count, rounded half up; 0 without gifts
    monthly_count: int
    monthly_cents: int
    once_count: int
    once_cents: int
    goods: tuple[GoodsLine, ...]
    days: tuple[DayRow, ...]
    gifts: tuple[GiftLine, ...]

    @property
    def percent(self) -> int:
        goal = self.campaign.goal_cents
        if not goal or self.raised_cents <= 0:
            return 0
        return min(100, self.raised_cents * 100 // goal)


def _average(total: int, count: int) -> int:
    """``total / count`` rounded half up, in whole minor units (no float)."""
    if count <= 0:
        return 0
    quotient, remainder = divmod(total, count)
    return quotient + (1 if remainder * 2 >= count else 0)


def _gift_lines(campaign: Campaign) -> tuple[list[GiftLine], set[int]]:
    """The campaign's counted gifts, oldest first, and the ids of those donors stand behind."""
    rows = db.session.execute(
        select(
            Gift.id,
            Gift.received_at,
            Gift.donor_id,
            Donor.name,
            Gift.frequency,
            Gift.amount_cents,
            Gift.refunded_cents + Gift.dispute_cents,
            RAISED,
            Gift.is_reversal,
            Gift.appeal_code,
        )
        .join(Donor, Donor.id == Gift.donor_id)
        .where(counted_gifts(campaign))
        .order_by(Gift.received_at, Gift.id)
    ).all()
    standing = set(
        db.session.scalars(select(Gift.id).where(counted_gifts(campaign), giving_gifts()))
    )
    lines = [
        GiftLine(
            id=r[0],
            received_at=r[1],
            donor_id=r[2],
            donor_name=r[3],
            frequency=str(r[4].value if hasattr(r[4], "value") else r[4]),
            amount_cents=r[5],
            returned_cents=r[6],
            raised_cents=r[7],
            is_reversal=r[8],
            appeal_code=r[9] or "",
        )
        for r in rows
    ]
    return lines, standing


def appeal_rows(lines: tuple[GiftLine, ...]) -> tuple[AppealRow, ...]:
    """Raised per appeal code among a campaign's gift lines, largest first; none last."""
    counts: dict[str, int] = {}
    raised: dict[str, int] = {}
    for line in lines:
        counts[line.appeal_code] = counts.get(line.appeal_code, 0) + 1
        raised[line.appeal_code] = raised.get(line.appeal_code, 0) + line.raised_cents
    order = sorted(counts, key=lambda code: (code == "", -raised[code], code))
    return tuple(AppealRow(code, counts[code], raised[code]) for code in order)


def _returning_donors(campaign: Campaign, firsts: dict[int, datetime]) -> set[int]:
    """Of the campaign's donors (with their first gift to it), those who had given
    before it: a paid gift, to anything else, received earlier."""
    if not firsts:
        return set()
    rows = db.session.execute(
        select(Gift.donor_id, func.min(Gift.received_at))
        .where(
            Gift.donor_id.in_(list(firsts)),
            Gift.status == GiftStatus.PAID,
            Gift.is_reversal.is_(False),
            or_(Gift.campaign_id.is_(None), Gift.campaign_id != campaign.id),
        )
        .group_by(Gift.donor_id)
    )
    return {donor_id for donor_id, earliest in rows if earliest < firsts[donor_id]}


def _days(campaign: Campaign, lines: list[GiftLine]) -> tuple[DayRow, ...]:
    """Raised per day from the campaign's start (or first gift) to its end (or today)."""
    by_day: dict[date, int] = defaultdict(int)
    for line in lines:
        by_day[line.received_at.date()] += line.raised_cents
    start = min([campaign.starts_on, *by_day])
    end = max([min(campaign.ends_on or today(), today()), *by_day])
    if (end - start).days >= CHART_DAYS_MAX:
        start = end - timedelta(days=CHART_DAYS_MAX - 1)
    days = []
    day = start
    while day <= end:
        days.append(DayRow(day, by_day.get(day, 0)))
        day += timedelta(days=1)
    return tuple(days)


def campaign_figures(campaign: Campaign) -> CampaignFigures:
    """Every figure of the report for one campaign."""
    lines, standing = _gift_lines(campaign)
    raised = sum(line.raised_cents for line in lines)
    firsts: dict[int, datetime] = {}
    for line in lines:  # oldest first: a donor's first gift to the campaign comes first
        if line.id in standing:
            firsts.setdefault(line.donor_id, line.received_at)
    donors = set(firsts)
    returning = _returning_donors(campaign, firsts)
    given = [line for line in lines if line.id in standing]
    monthly = [line for line in lines if line.frequency == Frequency.MONTHLY.value]
    once = [line for line in lines if line.frequency != Frequency.MONTHLY.value]
    return CampaignFigures(
        campaign=campaign,
        currency=campaign.currency,
        raised_cents=raised,
        gift_count=len(given),
        donors=len(donors),
        new_donors=len(donors - returning),
        returning_donors=len(returning),
        average_cents=_average(raised, len(given)),
        monthly_count=sum(1 for line in monthly if line.id in standing),
        monthly_cents=sum(line.raised_cents for line in monthly),
        once_count=sum(1 for line in once if line.id in standing),
        once_cents=sum(line.raised_cents for line in once),
        goods=goods_lines(campaign),
        days=_days(campaign, lines),
        gifts=tuple(lines),
    )


def all_campaign_figures() -> list[CampaignFigures]:
    return [campaign_figures(campaign) for campaign in list_campaigns()]


CSV_HEADER = (
    "campaign",
    "slug",
    "status",
    "starts_on",
    "ends_on",
    "currency",
    "goal",
    "raised",
    "gifts",
    "donors",
    "new_donors",
    "returning_donors",
    "average_gift",
    "monthly_gifts",
    "monthly_raised",
    "one_time_gifts",
    "one_time_raised",
    "goods_goal",
    "goods_collected",
)


def _plain(cents: int | None, currency: str) -> str:
    return "" if cents is None else format_plain(cents, currency)


def _text(value: str) -> str:
    return "'" + value if value.startswith(tuple(FORMULA_FIRST)) else value


def figures_csv(figures: list[CampaignFigures]) -> Iterator[str]:
    """The report as CSV: one line per campaign (and per goods item below it: the
    goods columns name the item and its goal and collected quantity)."""
    yield csv_head(CSV_HEADER)
    for f in figures:
        c = f.campaign
        yield csv_line(
            (
                _text(c.name),
                c.slug,
                c.status.value if hasattr(c.status, "value") else c.status,
                c.starts_on.isoformat(),
                c.ends_on.isoformat() if c.ends_on else "",
                f.currency,
                _plain(c.goal_cents, f.currency),
                _plain(f.raised_cents, f.currency),
                f.gift_count,
                f.donors,
                f.new_donors,
                f.returning_donors,
                _plain(f.average_cents, f.currency),
                f.monthly_count,
                _plain(f.monthly_cents, f.currency),
                f.once_count,
                _plain(f.once_cents, f.currency),
                sum(line.goal for line in f.goods),
                sum(line.collected for line in f.goods),
            )
        )
