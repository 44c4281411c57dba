"""The demo's year of gifts, told in date order through the services and the local Stripe."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from donations.demo.money import DEMO_OFFLINE_GIFTS, DEMO_ONLINE_GIFTS, DEMO_PLANS, Plan, When
from donations.demo.people import NEW_ONLINE_DONORS
from donations.integrations.local_gateway import add_months, sign_payload
from donations.models import Donor, Frequency, Fund, Gift, RecurringPlan, User
from donations.services import gifts, giving, notifications, payments, stripe_events
from donations.services.links import absolute_url


class Clock:
    """The local Stripe's clock: set to each gift's moment, never ahead of now."""

    def __init__(self) -> None:
        self.moment = time.time()

    def __call__(self) -> float:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = min(moment.timestamp(), time.time() - 1)


class Year:
    """A year of the shelter's gifts, told in date order."""

    def __init__(self, people: list[Donor], funds: list[Fund], treasurer: User) -> None:
        self.donors = {d.name: d for d in people}
        self.funds = funds
        self.treasurer = treasurer
        self.today = datetime.now(UTC).date()
        self.clock = Clock()
        self.online = payments.is_test_mode()
        if self.online:
            self.gateway = payments.get_gateway()
            self.gateway.local.clock = self.clock
        self.attempts = 0
        self.corrections: list[tuple[Gift, int, str]] = []
        self.refunds: list[tuple[Gift, int | None, str]] = []

    # --- when ------------------------------------------------------------------

    def day(self, when: When) -> date:
        if isinstance(when, int):
            return self.today - timedelta(days=when)
        month, day_of_month = when
        found = date(self.today.year, month, day_of_month)
        return found if found < self.today else found.replace(year=found.year - 1)

    def moment(self, day: date, n: int) -> datetime:
        """A time of day on ``day`` between 7 am and 9 pm UTC, varied by ``n``."""
        return datetime(day.year, day.month, day.day, 7 + (n * 5) % 14, (n * 17) % 60, tzinfo=UTC)

    # --- the story ---------------------------------------------------------------

    def tell(self) -> None:
        timeline: list[tuple[datetime, int, Callable[[], None]]] = []

        def at(moment: datetime, action: Callable[[], None]) -> None:
            timeline.append((moment, len(timeline), action))

        for n, (when, donor, fund, method, dollars, cheque, ref, extras) in enumerate(
            DEMO_OFFLINE_GIFTS
        ):
            moment = self.moment(self.day(when), n)
            at(
                moment,
                lambda m=moment, a=(donor, fund, method, dollars, cheque, ref, extras): (
                    self.by_hand(m, *a)
                ),
            )
        if self.online:
            for n, (when, donor, dollars, fund, cover, extras) in enumerate(DEMO_ONLINE_GIFTS):
                moment = self.moment(self.day(when), n + 3)
                at(
                    moment,
                    lambda m=moment, a=(donor, dollars, fund, cover, extras): self.give(m, *a),
                )
            for n, plan in enumerate(DEMO_PLANS):
                for moment, action in self.plan_story(plan, self.moment(self.day(plan.started), n)):
                    at(moment, action)
        for _moment, _n, action in sorted(timeline, key=lambda entry: entry[:2]):
            action()

    def this_week(self) -> None:
        """Today, after the rest of the demo: the treasurer corrects a cheque and refunds
        two online gifts."""
        for gift, dollars, reason in self.corrections:
            gifts.correct_gift(
                actor=self.treasurer, gift=gift, reason=reason, amount_cents=dollars * 100
            )
        if not self.online:
            return
        self.clock.set(datetime.now(UTC))
        for gift, cents, reason in self.refunds:
            self.deliver(self.gateway.local.refund(gift.stripe_charge_id, cents, reason=reason))

    # --- gifts by hand -----------------------------------------------------------

    def by_hand(
        self,
        moment: datetime,
        donor: str,
        fund: int,
        method: str,
        dollars: int,
        cheque: str,
        reference: str,
        extras: dict,
    ) -> None:
        extras = dict(extras)
        corrected = extras.pop("corrected", None)
        gift = gifts.record_offline_gift(
            actor=self.treasurer,
            donor_id=self.donors[donor].id,
            fund_id=self.funds[fund].id,
            method=method,
            amount_cents=dollars * 100,
            currency="USD",
            received_on=moment.date(),
            cheque_number=cheque,
            reference=reference,
            **extras,
        )
        # With its receipt, as the form does by default, issued when it was entered.
        notifications.thank_donor(gift, now=min(moment, datetime.now(UTC)))
        if corrected is not None:
            self.corrections.append((gift, *corrected))

    # --- gifts online ------------------------------------------------------------

    def deliver(self, events: list[dict]) -> None:
        """Send the local Stripe's events through the webhook code, signed as Stripe signs."""
        secret = payments.webhook_secret() or ""
        now = datetime.fromtimestamp(self.clock(), UTC)  # received when the story says
        for event in events:
            payload = json.dumps(event)
            stripe_events.receive_webhook(
                payload=payload.encode(),
                signature=sign_payload(payload, secret),
                gateway=self.gateway,
                now=now,
            )

    def checkout(
        self,
        moment: datetime,
        donor: str,
        dollars: int,
        fund: int,
        *,
        cover: bool,
        monthly: bool = False,
        **extras,
    ) -> Gift:
        """Give on the donation page at ``moment`` and pay on the test checkout page."""
        self.clock.set(moment)
        known = self.donors.get(donor)
        donation = giving.Donation(
            amount_cents=dollars * 100,
            currency="USD",
            frequency=Frequency.MONTHLY if monthly else Frequency.ONE_TIME,
            fund_id=self.funds[fund].id,
            cover_fee=cover,
            name=donor,
            email=known.email if known else NEW_ONLINE_DONORS[donor],
            **extras,
        )
        self.attempts += 1
        gift = giving.prepare_checkout(donation=donation, attempt_id=f"demo-{self.attempts}")
        session = giving.open_checkout_session(
            gift=gift,
            gateway=self.gateway,
            success_url=absolute_url("give.thanks", token=giving.gift_token(gift)),
            cancel_url=absolute_url("give.cancelled", token=giving.gift_token(gift)),
        )
        self.deliver(self.gateway.local.pay_checkout_session(session.id))
        return gift

    def give(
        self, moment: datetime, donor: str, dollars: int, fund: int, cover: bool, extras: dict
    ) -> None:
        extras = dict(extras)
        refund = extras.pop("refund", None)
        gift = self.checkout(moment, donor, dollars, fund, cover=cover, **extras)
        if refund is not None:
            self.refunds.append((gift, *refund))

    def plan_story(self, plan: Plan, start: datetime) -> list[tuple[datetime, Callable[[], None]]]:
        """The moments of a monthly gift: its checkout, each renewal, a retry, its end."""
        now = datetime.now(UTC)
        state: dict[str, RecurringPlan] = {}

        def begin() -> None:
            donor = self.donors[plan.donor]
            gift = self.checkout(
                start,
                plan.donor,
                plan.dollars,
                plan.fund,
                cover=plan.cover,
                monthly=True,
                is_anonymous=donor.prefers_anonymous,
            )
            state["plan"] = gift.plan

        def renew(moment: datetime, fail: bool) -> None:
            self.clock.set(moment)
            subscription = state["plan"].stripe_subscription_id
            self.deliver(self.gateway.local.renew_subscription(subscription, fail=fail))

        def retry(moment: datetime) -> None:
            self.clock.set(moment)
            self.deliver(self.gateway.local.retry_invoice(state["plan"].last_failed_invoice_id))

        def cancel(moment: datetime) -> None:
            self.clock.set(moment)
            subscription = state["plan"].stripe_subscription_id
            self.deliver(self.gateway.local.cancel_subscription(subscription))

        story: list[tuple[datetime, Callable[[], None]]] = [(start, begin)]
        end = self.moment(self.day(plan.cancelled), 9) if plan.cancelled is not None else now
        anchor = int(start.timestamp())
        renewals = []
        cycle = 1
        while (due := datetime.fromtimestamp(add_months(anchor, cycle), UTC)) < end:
            renewals.append(due)
            cycle += 1
        for cycle, due in enumerate(renewals, start=1):
            declined = cycle == plan.declined or (plan.last_declined and cycle == len(renewals))
            story.append((due, lambda m=due, f=declined: renew(m, f)))
            if cycle == plan.declined:
                later = due + timedelta(days=plan.retried_after)
                story.append((later, lambda m=later: retry(m)))
        if plan.cancelled is not None:
            story.append((end, lambda: cancel(end)))
        return story
