"""The gifts export: one row per gift, with its donor, fund, Stripe ids and receipt."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Integer, Select, String, case, func, select, type_coerce
from sqlalchemy.orm import aliased

from donations.extensions import db
from donations.models import (
    Campaign,
    Donor,
    Fund,
    Gift,
    GiftStatus,
    Receipt,
    ReceiptStatus,
    RecurringPlan,
)
from donations.money import exponent
from donations.services import streaming
from donations.services.exports.common import (
    CACHE_MAX,
    CHUNK_ROWS,
    FORMULA_FIRST,
    METHOD_LABELS,
    csv_head,
    csv_line,
    day_of,
    needs_quotes,
    remember_amount,
    safe_text,
)
from donations.services.gifts import GiftFilters, gift_conditions
from donations.tenancy import current_organization_id

GIFTS_HEADER = [
    "Date",
    "Gift ID",
    "Donor ID",
    "Donor",
    "Email",
    "Gross",
    "Fee",
    "Refunded or disputed",
    "Net",
    "Currency",
    "Fund",
    "Method",
    "Frequency",
    "Status",
    "Stripe payment intent",
    "Stripe charge",
    "Stripe invoice",
    "Stripe subscription",
    "Receipt number",
    "Receipt status",
    "Anonymous",
    "Campaign",
    "Appeal",
]

FREQUENCY_LABELS = {"one_time": "One-time", "monthly": "Monthly"}


def gift_status_label(
    *,
    status: str,
    is_reversal: bool,
    amount_cents: int,
    refunded_cents: int,
    dispute_status: str,
) -> str:
    """The status a treasurer reads, as ``Gift.display_status`` words it."""
    if is_reversal:
        return "reversal"
    if status != GiftStatus.PAID:
        return status
    if dispute_status and dispute_status not in ("won", "lost"):
        return "disputed"
    if dispute_status == "lost":
        return "dispute lost"
    if amount_cents > 0 and refunded_cents >= amount_cents:
        return "refunded"
    if refunded_cents:
        return "partially refunded"
    return "paid"


def _gift_query(filters: GiftFilters) -> Select:
    """The export's columns, plain (no enum or bool conversion), in gift id order.

    The donor and the plan come by join and the valid receipt number by a
    subquery on its index, so nothing is cached per donor and memory does not
    grow with the file. Gift id order reads the table straight through (a
    spreadsheet sorts by the Date column in a click).
    """
    donor = aliased(Donor)  # gift_conditions may filter on Donor in a subquery of its own
    receipt = (
        select(func.max(case((Receipt.status == ReceiptStatus.VALID, Receipt.number), else_="")))
        .where(Receipt.gift_id == Gift.id)
        .scalar_subquery()
    )
    return (
        select(
            day_of(Gift.received_at),
            Gift.id,
            Gift.donor_id,
            donor.name,
            donor.email,
            Gift.amount_cents,
            Gift.fee_cents,
            Gift.dispute_fee_cents,
            Gift.refunded_cents,
            Gift.dispute_cents,
            Gift.currency,
            Gift.fund_id,
            type_coerce(Gift.method, String),
            type_coerce(Gift.frequency, String),
            type_coerce(Gift.status, String),
            type_coerce(Gift.is_reversal, Integer),
            Gift.dispute_status,
            Gift.stripe_payment_intent_id,
            Gift.stripe_charge_id,
            Gift.stripe_invoice_id,
            RecurringPlan.stripe_subscription_id,
            receipt,
            type_coerce(Gift.is_anonymous, Integer),
            Gift.campaign_id,
            Gift.appeal_code,
        )
        .join(donor, donor.id == Gift.donor_id)
        .outerjoin(RecurringPlan, RecurringPlan.id == Gift.plan_id)
        # Run on the connection, past the ORM's scoping hook: the scope is written out.
        .where(Gift.organization_id == current_organization_id(), *gift_conditions(filters))
        .order_by(Gift.id)
    )


def gift_csv(filters: GiftFilters, *, batch: int | None = None) -> Iterator[str]:
    """Yield the gifts CSV as text: the BOM and header, then a chunk per ``batch`` gifts
    (``CHUNK_ROWS``).

    Rows come from the database a batch at a time (a server-side cursor on
    PostgreSQL) and each becomes one line joined by hand, identical to what
    ``csv.writer`` writes: a row with a cell that needs quotes (a comma or a
    quote in a name) goes through ``csv.writer`` itself. Amounts are made from
    integer minor units, each distinct amount formatted once per currency.
    """
    funds = {
        fund_id: safe_text(name) for fund_id, name in db.session.execute(select(Fund.id, Fund.name))
    }
    campaign_names = {
        campaign_id: safe_text(name)
        for campaign_id, name in db.session.execute(select(Campaign.id, Campaign.name))
    }
    method_labels = METHOD_LABELS
    frequency_labels = FREQUENCY_LABELS
    formula_first = FORMULA_FIRST
    quotes = needs_quotes
    paid = GiftStatus.PAID.value
    amount_caches: dict[str, dict[int, str]] = {}
    current = ""  # the currency of the previous row, with its cache and digits
    amounts: dict[int, str] = {}
    get = amounts.get
    digits = 2
    yield csv_head(GIFTS_HEADER)
    query = _gift_query(filters).execution_options(yield_per=batch or CHUNK_ROWS)
    for rows in streaming.partitions(db.session.connection(), query):
        for cache in amount_caches.values():
            if len(cache) > CACHE_MAX:  # memory stays bounded on huge exports
                cache.clear()
        lines = []
        append = lines.append
        for (
            day,
            gift_id,
            donor_id,
            name,
            email,
            gross,
            fee,
            dispute_fee,
            refunded,
            disputed,
            currency,
            fund_id,
            method,
            frequency,
            status,
            is_reversal,
            dispute_status,
            payment_intent,
            charge,
            invoice,
            subscription,
            number,
            anonymous,
            campaign_id,
            appeal,  # letters, digits and inner hyphens (services/appeals.py): no quoting
        ) in rows:
            if currency != current:
                current = currency
                amounts = amount_caches.setdefault(currency, {})
                get = amounts.get
                digits = exponent(currency)
            total_fee = fee + dispute_fee
            returned = refunded + disputed
            net = gross - total_fee - returned
            if status == paid and not (is_reversal or refunded or dispute_status):
                status_label = "paid"
            else:
                status_label = gift_status_label(
                    status=status,
                    is_reversal=bool(is_reversal),
                    amount_cents=gross,
                    refunded_cents=refunded,
                    dispute_status=dispute_status,
                )
            if name and name[0] in formula_first:
                name = "'" + name
            if not email:
                email = ""
            elif email[0] in formula_first:
                email = "'" + email
            fund = funds.get(fund_id, "")
            campaign = campaign_names.get(campaign_id, "") if campaign_id else ""
            payment_intent = payment_intent or ""
            charge = charge or ""
            invoice = invoice or ""
            subscription = subscription or ""
            receipt_status = "" if number is None else ("valid" if number else "void")
            number = number or ""
            gross_text = get(gross) or remember_amount(amounts, gross, digits)
            fee_text = get(total_fee) or remember_amount(amounts, total_fee, digits)
            returned_text = get(returned) or remember_amount(amounts, returned, digits)
            net_text = get(net) or remember_amount(amounts, net, digits)
            method = method_labels.get(method, method)
            frequency = frequency_labels.get(frequency, frequency)
            anonymous = "yes" if anonymous else "no"
            # Every other cell is a number, a date or a fixed label without these.
            if quotes(
                f"{name}{email}{currency}{fund}{payment_intent}{charge}{invoice}{subscription}"
                f"{number}{campaign}"
            ):
                append(
                    csv_line(
                        (day, gift_id, donor_id, name, email, gross_text, fee_text,
                         returned_text, net_text, currency, fund, method, frequency,
                         status_label, payment_intent, charge, invoice, subscription, number,
                         receipt_status, anonymous, campaign, appeal)
                    )
                )  # fmt: skip
            else:
                append(
                    f"{day},{gift_id},{donor_id},{name},{email},{gross_text},{fee_text},"
                    f"{returned_text},{net_text},{currency},{fund},{method},{frequency},"
                    f"{status_label},{payment_intent},{charge},{invoice},{subscription},{number},"
                    f"{receipt_status},{anonymous},{campaign},{appeal}\r\n"
                )
        if lines:
            yield "".join(lines)
