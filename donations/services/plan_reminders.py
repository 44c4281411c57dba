"""Reminders for past-due monthly plans: the donor is asked, once per failure, to update the card.

A failure episode is the failed invoice Stripe keeps retrying (``last_failed_invoice_id``):
the plan remembers the episode it reminded the donor of (``reminded_invoice_id``), so the
daily run mails each episode once, however long it lasts, and a later failure (a new
invoice) is a new episode. The link opens the app's "manage my monthly gift" page, which
hands the donor to Stripe's billing portal to change the card. Each reminder is recorded in
the donor's history (the audit log), where staff see it beside the donor's plans.

A plan made in payments test mode (its subscription is a local test object) never gets a
reminder once the site takes real payments; in test mode every reminder says it is a test.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from donations.extensions import db
from donations.models import PlanStatus, RecurringPlan, StripeTestObject
from donations.money import format_money
from donations.services import payments
from donations.services.audit import record_audit
from donations.services.giving import plan_token
from donations.services.links import absolute_url
from donations.services.locking import serialize_writes
from donations.services.mail import queue_mail
from donations.services.organization import get_organization

REMINDER_KIND = "plan_past_due"
TEST_LINES = [
    "TEST — this message was made in test mode, while the site was being tried out;",
    "no card was charged.",
    "",
]


def episode_of(plan: RecurringPlan) -> str:
    """The failure episode a past-due plan is in: its failed invoice (or the plan itself when
    Stripe reported it past due without a failed invoice the app saw)."""
    return plan.last_failed_invoice_id or f"plan-{plan.id}"


def is_test_plan(plan: RecurringPlan) -> bool:
    """True when the plan was made on the local test payment page, not on Stripe."""
    return bool(plan.stripe_subscription_id) and (
        db.session.get(StripeTestObject, plan.stripe_subscription_id) is not None
    )


def plans_to_remind() -> list[RecurringPlan]:
    """Past-due plans whose current failure episode has not been reminded of yet."""
    plans = db.session.scalars(
        select(RecurringPlan)
        .options(joinedload(RecurringPlan.donor), joinedload(RecurringPlan.fund))
        .where(RecurringPlan.status == PlanStatus.PAST_DUE)
        .order_by(RecurringPlan.id)
    ).all()
    return [p for p in plans if p.reminded_invoice_id != episode_of(p)]


def _org_name() -> str:
    org = get_organization()
    return org.legal_name if org and org.legal_name else "our shelter"


def _reminder_body(plan: RecurringPlan, *, test: bool) -> str:
    amount = format_money(plan.amount_cents, plan.currency)
    link = absolute_url("give.manage_plan", token=plan_token(plan))
    lines = [
        *(TEST_LINES if test else []),
        f"Dear {plan.donor.name},",
        "",
        f"Your monthly gift of {amount} to {_org_name()} ({plan.fund.name}) could not be "
        "charged to your card. The card may have expired or been replaced.",
        "",
        "To keep your gift going, please update your card on Stripe's secure billing page:",
        link,
        "",
        "The same page lets you stop the monthly gift if you would rather not continue. "
        "We will not send this reminder again for this payment.",
        "",
        f"With gratitude,\n{_org_name()}",
    ]
    return "\n".join(lines) + "\n"


def remind_past_due_plans(*, now: datetime) -> int:
    """Mail each donor whose plan is past due in a new failure episode; return how many.

    Plans without a donor email, and test-mode plans while payments are live, are marked
    nowhere and skipped (an email added later still gets the reminder).
    """
    serialize_writes(REMINDER_KIND)  # SQLite: two runs at once never both remind
    live = not payments.is_test_mode()
    sent = 0
    for plan in plans_to_remind():
        test = is_test_plan(plan)
        if (live and test) or not plan.donor.email:
            continue
        # Two runs at once: the second waits here, then sees the first's reminder.
        db.session.execute(
            select(RecurringPlan.id).where(RecurringPlan.id == plan.id).with_for_update()
        )
        db.session.refresh(plan)
        episode = episode_of(plan)
        if plan.status != PlanStatus.PAST_DUE or plan.reminded_invoice_id == episode:
            continue
        is_test = test or not live
        subject = f"Your monthly gift to {_org_name()} needs a new card"
        queue_mail(
            kind=REMINDER_KIND,
            to=plan.donor.email,
            subject=f"[TEST] {subject}" if is_test else subject,
            body_text=_reminder_body(plan, test=is_test),
        )
        plan.reminded_invoice_id = episode
        plan.reminded_at = now
        record_audit(
            actor=None,
            action="plan.payment_reminder",
            object_type="donor",
            object_id=plan.donor_id,
            summary=f"Monthly plan #{plan.id} is past due ({episode}): "
            "reminder to update the card sent to the donor",
        )
        sent += 1
    return sent
