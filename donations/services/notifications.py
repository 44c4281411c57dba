"""Mail the giving side sends: thank-you notes, tribute cards, treasurer alerts."""

from __future__ import annotations

from datetime import datetime

from donations.extensions import db
from donations.models import Frequency, Gift, RecurringPlan, Role, TributeType, utcnow
from donations.money import format_money
from donations.services import accounts, receipt_delivery, receipts
from donations.services.giving import plan_token
from donations.services.links import absolute_url
from donations.services.mail import queue_mail
from donations.services.organization import get_organization


def _org_name() -> str:
    org = get_organization()
    return org.legal_name if org else "our shelter"


def thank_donor(gift: Gift, *, now: datetime | None = None, locked: bool = False) -> None:
    """Queue the donor's thank-you note (once per gift) and any tribute card.

    ``now`` is when the gift is thanked and its receipt issued (the demo passes
    the gift's own moment); the clock's time when left out. ``locked``: the caller
    read the gift with its row lock in this transaction (a Stripe event's run).
    """
    if gift.thanked_at is not None:
        return
    # Marked first, so the gift's row is written once with its other pending changes (a
    # Stripe event's new status and fee) when the receipt's reads flush them.
    gift.thanked_at = now or utcnow()
    # Per-gift receipts: issued now and sent in this note (each instalment is a gift).
    issued = receipt_delivery.thank_you_receipt(gift, issued_at=now, locked=locked)
    receipt, pdf = issued or (None, None)
    is_test = receipt.is_test if receipt is not None else receipts.making_test_receipts()
    donor = gift.donor
    amount = format_money(gift.amount_cents, gift.currency)
    org_name = _org_name()
    lines = [
        *(receipt_delivery.TEST_MAIL_LINES if is_test else []),
        f"Dear {donor.name},",
        "",
        f"Thank you for your gift of {amount} to {org_name} ({gift.fund.name}), "
        f"received on {gift.received_at:%B %d, %Y}.",
    ]
    if gift.covered_fee_cents:
        covered = format_money(gift.covered_fee_cents, gift.currency)
        lines.append(f"It includes {covered} you added so that the card fee does not reduce it.")
    if gift.frequency == Frequency.MONTHLY and gift.plan is not None:
        link = absolute_url("give.manage_plan", token=plan_token(gift.plan))
        lines += [
            "",
            "This is one instalment of your monthly gift. To change your card or stop the "
            f"monthly gift at any time, open: {link}",
        ]
    lines += [
        "",
        "Your gift gives survivors of human trafficking a safe bed, care and a way forward.",
    ]
    if receipt is None:
        lines.append("Please keep this message for your records.")
    else:
        if pdf is not None:
            lines.append(f"Your official receipt {receipt.number} is attached.")
        else:
            lines.append(f"Your official receipt {receipt.number} is ready.")
        lines += receipt_delivery.download_lines(receipt, attached=pdf is not None)
    lines += [
        "",
        f"With gratitude,\n{org_name}",
    ]
    if donor.email:
        message = queue_mail(
            kind="gift_thanks",
            to=donor.email,
            subject=receipt_delivery.test_subject(
                f"Thank you for your gift to {org_name}", is_test=is_test
            ),
            body_text="\n".join(lines) + "\n",
            attachments=[pdf] if pdf is not None else [],
        )
        if receipt is not None:
            receipt_delivery.mark_delivered(receipt, message)
    if gift.tribute_notify_email and gift.tribute_name:
        giver = "Someone who cares" if gift.is_anonymous else donor.name
        way = "in memory of" if gift.tribute_type == TributeType.MEMORY.value else "in honour of"
        queue_mail(
            kind="tribute_notice",
            to=gift.tribute_notify_email,
            subject=f"A gift {way} {gift.tribute_name}",
            body_text=(
                f"{giver} has made a gift to {org_name} {way} {gift.tribute_name}.\n\n"
                "It will help survivors of human trafficking find safety and a new start.\n\n"
                f"{org_name}\n"
            ),
        )


def tell_treasurers_instalment_failed(plan: RecurringPlan, gift: Gift) -> None:
    """Queue a note to every active treasurer that a monthly instalment failed."""
    treasurers = db.session.scalars(accounts.active_members(Role.TREASURER)).all()
    amount = format_money(plan.amount_cents, plan.currency)
    link = absolute_url("gifts.plans")
    for user in treasurers:
        queue_mail(
            kind="instalment_failed",
            to=user.email,
            subject=f"Monthly gift payment failed: {plan.donor.name}, {amount}",
            body_text=(
                f"Hello {user.name},\n\n"
                f"The monthly gift of {amount} from {plan.donor.name} ({plan.fund.name}) "
                "could not be charged. Stripe will retry; the plan is marked past due.\n"
                f"{('Reason: ' + gift.failure_message) if gift.failure_message else ''}\n\n"
                f"Monthly plans: {link}\n"
            ),
        )
