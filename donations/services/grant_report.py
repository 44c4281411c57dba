"""The grant report for a period, for every program or one: cash gifts by fund and
restriction, gifts in kind by category with their valuation and fair value (ASU 2020-07),
goods distributed per program, volunteer hours by skill at the admin's hourly value and
professional services by type at their fair rates; counts only, never a person served.

Every figure is summed in SQL, grouped by day (or volunteer, fund, type) so what comes
back is bounded by the days, categories and people of the period, not by its rows, and
folded into months and groups here in integer cents, units and minutes.

Decisions, written down:

- **Cash gifts** are the treasurer's report's fund rows (``gift_period_totals``: paid
  gifts and correcting entries, refunds and disputes shown apart), so the total equals
  ``gifts.gift_totals`` for the same dates. Gifts are not recorded per program: the
  program filter leaves them whole, and the page says so.
- **Gifts in kind** are every intake (a known donor, a drive, a drop-off), less the
  intakes reversed, valued at the catalog's fair value per unit (the price of similar
  goods); an item without one is counted as "not valued" (units, no value). The value is
  the item's fair value today, not when it came in.
- **Volunteer hours** count once: each volunteer's hours fall under their skills as
  offered, one row per set of skills ("Sorting + Translation" is its own row, never
  added to "Sorting" and "Translation" again), so the rows add up to the hours recorded.
  Hours are not recorded per program either. Their value is minutes at the admin's
  hourly value, rounded half up to the cent per row; with no value set, none is shown.
- **Professional services** not voided, by type, each at its own fair rate; the program
  filter keeps those logged for that program.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from donations.extensions import db
from donations.models import (
    ContributedService,
    DocumentKind,
    Fund,
    Item,
    ItemCategory,
    Recipient,
    RecipientKind,
    ServiceType,
    StockDocument,
    StockEntry,
    VolunteerHours,
    VolunteerSkill,
    VolunteerSkillChoice,
)
from donations.pdf.documents import render_grant_report
from donations.pdf.grant_content import (
    DistributedRow,
    FundRow,
    GrantReport,
    HoursRow,
    InKindRow,
    MonthRow,
    ServiceRow,
    hour_value,
)
from donations.services import summaries
from donations.services.errors import InvalidInput
from donations.services.giving import default_currency
from donations.services.organization import get_organization
from donations.services.receipts import get_receipt_settings
from donations.services.reports import check_period, default_period

VALUED = "Fair value per unit from the catalog (price of similar goods)"
NOT_VALUED = "Not valued: no fair value in the catalog"
NO_SKILL = "No skill given"
ASU_NOTE = (
    "Contributed nonfinancial assets (ASU 2020-07): gifts in kind are shown by category at "
    "fair value, measured as each item's fair value per unit in the catalog (the price of "
    "similar goods); items without one are listed as not valued. The goods were used in "
    "the organisation's programs and given to partner agencies, not sold (monetised). No "
    "donor restrictions on goods are recorded. Contributed services are valued for this "
    "report only (volunteers' hours at the hourly value the organisation set, professional "
    "services at their fair rates); acknowledgements state no value."
)

__all__ = [
    "ASU_NOTE",
    "GrantReport",
    "build_grant_report",
    "default_period",
    "grant_pdf",
    "program_choices",
]


def program_choices() -> list[Recipient]:
    """Programs (open and archived) the report may be narrowed to, by name."""
    return list(
        db.session.scalars(
            select(Recipient)
            .where(Recipient.kind == RecipientKind.PROGRAM)
            .order_by(func.lower(Recipient.name))
        )
    )


def _program(program_id: int | None) -> Recipient | None:
    if not program_id:
        return None
    program = db.session.get(Recipient, program_id)
    if program is None or program.kind != RecipientKind.PROGRAM:
        raise InvalidInput("Choose a program from the list.", field="program")
    return program


# --- cash gifts -------------------------------------------------------------------


def fund_rows(date_from: date, date_to: date) -> list[FundRow]:
    """Cash gifts received per fund and currency, from the summary rows."""
    funds = {
        fund_id: (name, restricted)
        for fund_id, name, restricted in db.session.execute(
            select(Fund.id, Fund.name, Fund.is_restricted)
        )
    }
    rows = []
    pieces = summaries.cover(date_from, date_to)
    for fund_id, currency, count, gross, _fee, returned, net in summaries.money_sums(
        pieces, by="fund_id"
    ):
        name, restricted = funds.get(fund_id, (f"Fund #{fund_id}", False))
        rows.append(FundRow(name, bool(restricted), currency, count, gross, returned, net))
    return sorted(rows, key=lambda r: (r.currency, r.restricted, -r.gross_cents, r.fund))


# --- goods ------------------------------------------------------------------------


def _goods(date_from: date, date_to: date, kind: DocumentKind, program_id: int | None):
    """(day, recipient id, category id, valued, units, value) of one kind of document,
    each net of its reversals, grouped in SQL."""
    original = aliased(StockDocument)
    valued = case((Item.fair_value_cents.is_(None), 0), else_=1)
    recipient = func.coalesce(StockDocument.recipient_id, original.recipient_id)
    query = (
        select(
            StockEntry.effective_date,
            recipient if kind == DocumentKind.DISTRIBUTION else literal(0),
            Item.category_id,
            valued,
            func.sum(StockEntry.quantity),
            func.sum(StockEntry.quantity * func.coalesce(Item.fair_value_cents, 0)),
        )
        .join(StockDocument, StockDocument.id == StockEntry.document_id)
        .outerjoin(original, original.id == StockDocument.reverses_id)
        .join(Item, Item.id == StockEntry.item_id)
        .where(
            StockEntry.effective_date >= date_from,
            StockEntry.effective_date <= date_to,
            or_(
                StockDocument.kind == kind,
                and_(StockDocument.kind == DocumentKind.REVERSAL, original.kind == kind),
            ),
        )
        .group_by(StockEntry.effective_date, Item.category_id, valued)
    )
    if kind == DocumentKind.DISTRIBUTION:
        query = query.group_by(recipient)
        if program_id:
            query = query.where(recipient == program_id)
    return db.session.execute(query).all()


def _categories() -> dict[int, tuple[int, str]]:
    return {
        cid: (order, name)
        for cid, order, name in db.session.execute(
            select(ItemCategory.id, ItemCategory.sort_order, ItemCategory.name)
        )
    }


def goods_in(date_from: date, date_to: date) -> tuple[list[InKindRow], dict[tuple, int]]:
    """Gifts in kind by category and valuation, and their value per month."""
    names = _categories()
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    months: dict[tuple, int] = defaultdict(int)
    for day, _r, category_id, valued, units, value in _goods(
        date_from, date_to, DocumentKind.INTAKE, None
    ):
        sums[(category_id, valued)][0] += int(units or 0)
        sums[(category_id, valued)][1] += int(value or 0)
        months[(day.year, day.month)] += int(value or 0)
    rows = []
    for (category_id, valued), (units, value) in sorted(
        sums.items(), key=lambda kv: (names.get(kv[0][0], (0, "")), -kv[0][1])
    ):
        if units == 0 and value == 0:
            continue
        name = names.get(category_id, (0, f"Category #{category_id}"))[1]
        rows.append(InKindRow(name, VALUED if valued else NOT_VALUED, units, value))
    return rows, months


def goods_out(date_from: date, date_to: date, program_id: int | None) -> list[DistributedRow]:
    """Goods distributed per program or partner and category: units and fair value."""
    names = _categories()
    recipients = {r.id: (r.name, r.kind_label) for r in db.session.scalars(select(Recipient))}
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for _day, recipient_id, category_id, _valued, units, value in _goods(
        date_from, date_to, DocumentKind.DISTRIBUTION, program_id
    ):
        sums[(recipient_id or 0, category_id)][0] -= int(units or 0)
        sums[(recipient_id or 0, category_id)][1] -= int(value or 0)
    rows = []
    for (recipient_id, category_id), (units, value) in sums.items():
        if units == 0 and value == 0:
            continue
        name, kind = recipients.get(recipient_id, ("Not recorded", ""))
        category = names.get(category_id, (0, f"Category #{category_id}"))
        rows.append((name.lower(), category, DistributedRow(name, kind, category[1], units, value)))
    return [row for *_key, row in sorted(rows, key=lambda r: (r[0], r[1]))]


# --- time given -------------------------------------------------------------------


def hours_rows(date_from: date, date_to: date, rate: int | None) -> list[HoursRow]:
    """Volunteer hours per set of skills (each volunteer's hours counted once)."""
    in_period = (VolunteerHours.worked_on >= date_from, VolunteerHours.worked_on <= date_to)
    per_volunteer = dict(
        db.session.execute(
            select(VolunteerHours.volunteer_id, func.sum(VolunteerHours.minutes))
            .where(*in_period)
            .group_by(VolunteerHours.volunteer_id)
        ).all()
    )
    skills: dict[int, list[str]] = defaultdict(list)
    for volunteer_id, name in db.session.execute(
        select(VolunteerSkillChoice.volunteer_id, VolunteerSkill.name)
        .join(VolunteerSkill, VolunteerSkill.id == VolunteerSkillChoice.skill_id)
        .where(
            VolunteerSkillChoice.volunteer_id.in_(
                select(VolunteerHours.volunteer_id).where(*in_period).distinct()
            )
        )
    ):
        skills[volunteer_id].append(name)
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for volunteer_id, minutes in per_volunteer.items():
        label = " + ".join(sorted(skills.get(volunteer_id, []))) or NO_SKILL
        groups[label][0] += 1
        groups[label][1] += int(minutes)
    return [
        HoursRow(label, people, minutes, hour_value(minutes, rate) if rate is not None else None)
        for label, (people, minutes) in sorted(groups.items(), key=lambda kv: (-kv[1][1], kv[0]))
    ]


def _services_query(date_from: date, date_to: date, program_id: int | None):
    conditions = [
        ContributedService.service_date >= date_from,
        ContributedService.service_date <= date_to,
        ContributedService.voided_at.is_(None),
    ]
    if program_id:
        conditions.append(ContributedService.recipient_id == program_id)
    return conditions


def service_rows(date_from: date, date_to: date, program_id: int | None) -> list[ServiceRow]:
    """Professional services not voided, by type, valued at their own fair rates."""
    query = (
        select(
            ContributedService.service_type,
            func.count(),
            func.sum(ContributedService.minutes),
            func.sum(ContributedService.minutes * ContributedService.fair_rate_cents),
        )
        .where(*_services_query(date_from, date_to, program_id))
        .group_by(ContributedService.service_type)
    )
    rows = [
        ServiceRow(ServiceType(kind).label, count, int(minutes), (int(rate_minutes) + 30) // 60)
        for kind, count, minutes, rate_minutes in db.session.execute(query)
    ]
    return sorted(rows, key=lambda r: (-r.minutes, r.service_type))


def _minutes_by_month(date_from: date, date_to: date, program_id: int | None) -> dict:
    months: dict[tuple, int] = defaultdict(int)
    hours = (
        select(VolunteerHours.worked_on, func.sum(VolunteerHours.minutes))
        .where(VolunteerHours.worked_on >= date_from, VolunteerHours.worked_on <= date_to)
        .group_by(VolunteerHours.worked_on)
    )
    services = (
        select(ContributedService.service_date, func.sum(ContributedService.minutes))
        .where(*_services_query(date_from, date_to, program_id))
        .group_by(ContributedService.service_date)
    )
    for query in (hours, services):
        for day, minutes in db.session.execute(query):
            months[(day.year, day.month)] += int(minutes)
    return months


def _month_keys(date_from: date, date_to: date) -> list[tuple[int, int]]:
    keys, year, month = [], date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        keys.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


# --- the report -------------------------------------------------------------------


def build_grant_report(
    *, date_from: date, date_to: date, program_id: int | None = None
) -> GrantReport:
    """Return the grant report for the days ``date_from`` to ``date_to``, both included."""
    check_period(date_from, date_to)
    program = _program(program_id)
    program_id = program.id if program else None
    org = get_organization()
    rate = org.volunteer_hour_value_cents if org is not None else None
    in_kind, value_months = goods_in(date_from, date_to)
    minute_months = _minutes_by_month(date_from, date_to, program_id)
    months = [
        MonthRow(
            year, month, minute_months.get((year, month), 0), value_months.get((year, month), 0)
        )
        for year, month in _month_keys(date_from, date_to)
    ]
    return GrantReport(
        date_from=date_from,
        date_to=date_to,
        program=program.name if program else "",
        currency=default_currency(),
        hour_value_cents=rate,
        funds=fund_rows(date_from, date_to),
        in_kind=in_kind,
        distributed=goods_out(date_from, date_to, program_id),
        hours=hours_rows(date_from, date_to, rate),
        services=service_rows(date_from, date_to, program_id),
        months=months,
    )


def grant_pdf(*, report: GrantReport) -> bytes:
    """Render the grant report as a PDF on the receipts' page size."""
    org = get_organization()
    return render_grant_report(
        report,
        organization=org.legal_name if org else "",
        note=ASU_NOTE,
        page_size=get_receipt_settings().page_size,
    )
