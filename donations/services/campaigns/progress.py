"""A campaign's progress: money raised (net of refunds) against its goal, donors, and
goods collected through intakes tagged with it against each item's goal.

Every figure is summed in SQL over the gifts and stock entries that make it, in exact
integer minor units, so the page always agrees with the rows beneath it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, distinct, exists, func, or_, select
from sqlalchemy.orm import aliased

from donations.extensions import db
from donations.models import (
    Campaign,
    DocumentKind,
    Gift,
    GiftStatus,
    Item,
    StockDocument,
    StockEntry,
)


def counted_gifts(campaign: Campaign) -> ColumnElement[bool]:
    """The gifts that count towards the campaign: paid, in its currency (reversing
    entries of corrected offline gifts included: they take their gift back out)."""
    return and_(
        Gift.campaign_id == campaign.id,
        Gift.status == GiftStatus.PAID,
        Gift.currency == campaign.currency,
    )


def giving_gifts() -> ColumnElement[bool]:
    """Of those, the gifts a donor still stands behind: not a reversal, not reversed,
    not refunded in full."""
    reversal = aliased(Gift)
    return and_(
        Gift.is_reversal.is_(False),
        Gift.refunded_cents < Gift.amount_cents,
        ~exists().where(reversal.corrects_gift_id == Gift.id, reversal.is_reversal.is_(True)),
    )


# Net of refunds and of money held back by disputes; fees are not taken off.
RAISED = Gift.amount_cents - Gift.refunded_cents - Gift.dispute_cents


@dataclass(frozen=True)
class GoodsLine:
    item_id: int
    label: str
    unit: str
    goal: int
    collected: int

    @property
    def still_needed(self) -> int:
        return max(self.goal - self.collected, 0)

    @property
    def percent(self) -> int:
        return min(100, self.collected * 100 // self.goal) if self.goal else 0


@dataclass(frozen=True)
class Progress:
    raised_cents: int
    goal_cents: int | None
    currency: str
    donors: int
    goods: tuple[GoodsLine, ...]

    @property
    def percent(self) -> int:
        """How far towards the goal, 0 to 100 (whole percent, rounded down)."""
        if not self.goal_cents or self.raised_cents <= 0:
            return 0
        return min(100, self.raised_cents * 100 // self.goal_cents)

    @property
    def goods_needed(self) -> tuple[GoodsLine, ...]:
        return tuple(line for line in self.goods if line.still_needed)


def money_totals(campaign: Campaign) -> tuple[int, int]:
    """(raised in minor units, donors) in one query."""
    raised = select(func.coalesce(func.sum(RAISED), 0)).where(counted_gifts(campaign))
    donors = select(func.count(distinct(Gift.donor_id))).where(
        counted_gifts(campaign), giving_gifts()
    )
    row = db.session.execute(select(raised.scalar_subquery(), donors.scalar_subquery())).one()
    return int(row[0]), int(row[1])


def campaign_intakes(campaign_id: int) -> ColumnElement[bool]:
    """The stock documents that count for the campaign: its intakes, and the reversals
    of those intakes (which take their goods back out)."""
    undone = aliased(StockDocument)
    return or_(
        and_(StockDocument.kind == DocumentKind.INTAKE, StockDocument.campaign_id == campaign_id),
        and_(
            StockDocument.kind == DocumentKind.REVERSAL,
            StockDocument.reverses_id.in_(
                select(undone.id).where(
                    undone.kind == DocumentKind.INTAKE, undone.campaign_id == campaign_id
                )
            ),
        ),
    )


def goods_collected(campaign_id: int) -> dict[int, int]:
    """Item id -> quantity collected through the campaign's intakes (net of reversals)."""
    rows = db.session.execute(
        select(StockEntry.item_id, func.sum(StockEntry.quantity))
        .join(StockDocument, StockEntry.document_id == StockDocument.id)
        .where(campaign_intakes(campaign_id))
        .group_by(StockEntry.item_id)
    )
    return {item_id: int(total) for item_id, total in rows}


def goods_lines(campaign: Campaign) -> tuple[GoodsLine, ...]:
    """Each goods goal with what has been collected for it, in the order they were set."""
    if not campaign.goods_goals:
        return ()
    collected = goods_collected(campaign.id)
    items = {
        item.id: item
        for item in db.session.scalars(
            select(Item).where(Item.id.in_([g.item_id for g in campaign.goods_goals]))
        )
    }
    return tuple(
        GoodsLine(
            item_id=goal.item_id,
            label=items[goal.item_id].label,
            unit=items[goal.item_id].unit,
            goal=goal.quantity,
            collected=collected.get(goal.item_id, 0),
        )
        for goal in campaign.goods_goals
    )


def campaign_progress(campaign: Campaign) -> Progress:
    """The campaign's money and goods progress."""
    raised, donors = money_totals(campaign)
    return Progress(
        raised_cents=raised,
        goal_cents=campaign.goal_cents,
        currency=campaign.currency,
        donors=donors,
        goods=goods_lines(campaign),
    )
