"""What the grant report says: plain data in integer cents, units and minutes, no
reportlab. ``donations.services.grant_report`` fills it; the page, the CSV
(``services/exports/grant.py``) and the PDF (``donations.pdf.grant_report``) render it.
Counts only: never a person served, never a donor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def hour_value(minutes: int, rate_cents: int) -> int:
    """The value of ``minutes`` at ``rate_cents`` an hour, rounded half up to the cent."""
    return (minutes * rate_cents + 30) // 60


@dataclass(frozen=True)
class FundRow:
    """Cash gifts received to one fund, in one currency (the gifts screen's "received")."""

    fund: str
    restricted: bool
    currency: str
    count: int
    gross_cents: int
    returned_cents: int
    net_cents: int


@dataclass(frozen=True)
class InKindRow:
    """Goods received (every intake, less its reversals) in one category."""

    category: str
    method: str  # how the goods were valued
    units: int
    value_cents: int


@dataclass(frozen=True)
class DistributedRow:
    """Goods given out to one program or partner agency, in one category."""

    recipient: str
    recipient_kind: str
    category: str
    units: int
    value_cents: int


@dataclass(frozen=True)
class HoursRow:
    """Volunteer hours under one skill (or one set of skills: see the service)."""

    skill: str
    volunteers: int
    minutes: int
    value_cents: int | None  # None while no hourly value is set


@dataclass(frozen=True)
class ServiceRow:
    """Professional services of one type, valued at their own fair rates."""

    service_type: str
    services: int
    minutes: int
    value_cents: int


@dataclass(frozen=True)
class MonthRow:
    year: int
    month: int
    minutes: int  # volunteer hours and professional services
    in_kind_cents: int

    @property
    def label(self) -> str:
        return f"{MONTH_ABBR[self.month - 1]} {self.year}"


@dataclass(frozen=True)
class GrantReport:
    date_from: date
    date_to: date
    program: str  # "" for every program
    currency: str
    hour_value_cents: int | None
    funds: list[FundRow]
    in_kind: list[InKindRow]
    distributed: list[DistributedRow]
    hours: list[HoursRow]
    services: list[ServiceRow]
    months: list[MonthRow]
    generated_on: date = field(default_factory=lambda: datetime.now(UTC).date())

    def fund_totals(self) -> list[FundRow]:
        """One total per currency: restricted and unrestricted together."""
        totals: dict[str, list[int]] = {}
        for row in self.funds:
            sums = totals.setdefault(row.currency, [0, 0, 0, 0])
            for index, value in enumerate(
                (row.count, row.gross_cents, row.returned_cents, row.net_cents)
            ):
                sums[index] += value
        return [FundRow("Total", False, cur, *sums) for cur, sums in sorted(totals.items())]

    def restriction_totals(self) -> list[FundRow]:
        """Per currency, the restricted and the unrestricted funds' sums."""
        found: dict[tuple[str, bool], list[int]] = {}
        for row in self.funds:
            sums = found.setdefault((row.currency, row.restricted), [0, 0, 0, 0])
            for index, value in enumerate(
                (row.count, row.gross_cents, row.returned_cents, row.net_cents)
            ):
                sums[index] += value
        return [
            FundRow("Restricted" if restricted else "Unrestricted", restricted, cur, *sums)
            for (cur, restricted), sums in sorted(found.items())
        ]

    @property
    def in_kind_units(self) -> int:
        return sum(r.units for r in self.in_kind)

    @property
    def in_kind_cents(self) -> int:
        return sum(r.value_cents for r in self.in_kind)

    @property
    def distributed_units(self) -> int:
        return sum(r.units for r in self.distributed)

    @property
    def distributed_cents(self) -> int:
        return sum(r.value_cents for r in self.distributed)

    @property
    def hours_minutes(self) -> int:
        return sum(r.minutes for r in self.hours)

    @property
    def hours_cents(self) -> int | None:
        if self.hour_value_cents is None:
            return None
        return sum(r.value_cents or 0 for r in self.hours)

    @property
    def volunteers(self) -> int:
        return sum(r.volunteers for r in self.hours)

    @property
    def services_minutes(self) -> int:
        return sum(r.minutes for r in self.services)

    @property
    def services_cents(self) -> int:
        return sum(r.value_cents for r in self.services)

    @property
    def services_count(self) -> int:
        return sum(r.services for r in self.services)
