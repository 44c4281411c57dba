"""What the treasurer's report says: plain data, no reportlab.

``donations.services.reports`` builds these from the database; the reports page
and ``donations.pdf.report`` render them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime


@dataclass(frozen=True)
class MoneyRow:
    """Sums of the gifts in one group (a month, a fund, a method), in one currency."""

    label: str
    currency: str
    count: int
    gross_cents: int
    fee_cents: int
    returned_cents: int
    net_cents: int


@dataclass(frozen=True)
class Retention:
    """Donors who gave in this period, against the previous period of the same length."""

    previous_from: date
    previous_to: date
    donors: int  # gave in this period
    previous_donors: int  # gave in the previous period
    new: int  # first gift ever in this period
    returning: int  # gave in both periods
    reactivated: int  # gave now and before the previous period, not in it
    lapsed: int  # gave in the previous period, not in this one

    @property
    def retention_percent(self) -> int | None:
        """Share of the previous period's donors who gave again, rounded down."""
        if not self.previous_donors:
            return None
        return self.returning * 100 // self.previous_donors


@dataclass(frozen=True)
class GoodsRow:
    category: str
    received: int  # units taken in, less reversed intakes
    distributed: int  # units given out, less reversed distributions


@dataclass(frozen=True)
class Report:
    date_from: date
    date_to: date
    currency: str  # the organisation's currency: the chart shows it
    months: list[MoneyRow]
    funds: list[MoneyRow]
    methods: list[MoneyRow]
    totals: list[MoneyRow]  # one per currency
    retention: Retention
    goods: list[GoodsRow]
    generated_on: date = field(default_factory=lambda: datetime.now(UTC).date())

    @property
    def goods_received(self) -> int:
        return sum(row.received for row in self.goods)

    @property
    def goods_distributed(self) -> int:
        return sum(row.distributed for row in self.goods)

    def chart_months(self) -> list[MoneyRow]:
        """The month rows in the organisation's currency, for the bar chart."""
        return [row for row in self.months if row.currency == self.currency]
