"""Demo data: a small shelter, its staff, its donors and a year of their gifts.

Harbor Light Shelter runs two confidential shelter houses, a warehouse and a
public drop-off point (``donations.demo_goods`` tells their season of goods).
Its money story covers the last twelve months, plus a few gifts from before,
so that donor retention has a previous period to compare with:

- six monthly donors, each instalment a gift of its own: one has given for
  more than a year, one card was declined and went through on the retry, one
  donor stopped when she moved away, one plan is past due right now and one
  started this month;
- one-time gifts online, busiest in the year-end and spring appeals: some
  covering the card fee, one in memory and one in honour of someone, one
  anonymous, four from people who were not donors before (two of them gave
  only once, in the year-end appeal);
- cheques, cash, bank transfers and a gift of shares recorded by the
  treasurer, a benefit-dinner ticket whose dinner the receipt deducts, and a
  cheque typed in wrong and corrected;
- this week, a duplicate gift refunded and part of a mistyped gift refunded.

Every gift goes through the services the pages and Stripe's webhooks use.
Online gifts are paid on the test-mode local Stripe with its clock set to the
gift's moment (as Stripe's test clocks do for subscriptions), and the signed
events it sends are processed by the webhook code, so fees, instalments,
receipts, thank-you mail and the Stripe events list come out as they would.
Dates are counted back from today (or are the last such day of the year, for
the appeals), so the demo looks the same whenever it is loaded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from donations.demo_goods import load_demo_goods
from donations.extensions import db
from donations.integrations.local_gateway import add_months, sign_payload
from donations.models import (
    Donor,
    Frequency,
    Fund,
    Gift,
    Pledge,
    RecurringPlan,
    Role,
    StockDocument,
    TributeType,
    User,
)
from donations.services import (
    accounts,
    donors,
    gifts,
    giving,
    notifications,
    payments,
    stripe_events,
)
from donations.services.links import absolute_url
from donations.services.organization import update_organization

# Demo credentials are printed by `flask demo load` and listed in the README.
DEMO_USERS = [
    ("admin@example.org", "Ada Admin", Role.ADMIN.value, "admin-demo-pass"),
    ("treasurer@example.org", "Theo Treasurer", Role.TREASURER.value, "treasurer-demo-pass"),
    ("staff@example.org", "Sam Staff", Role.STAFF.value, "staff-demo-pass"),
]

DEMO_ORGANIZATION = {
    "legal_name": "Harbor Light Shelter, Inc.",
    "tax_id": "12-3456789",
    "address_line1": "PO Box 4410",
    "address_line2": "",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62701",
    "country": "United States",
    "phone": "(217) 555-0142",
    "email": "giving@harborlight.example.org",
    "website": "harborlight.example.org",
    "signatory_name": "Maria Alvarez",
    "signatory_title": "Treasurer",
    "receipt_footer": (
        "Harbor Light Shelter is a 501(c)(3) public charity. Thank you for standing with survivors."
    ),
    "default_currency": "USD",
    "fiscal_year_start_month": 1,
}

DEMO_DONORS = [
    {"name": "Eleanor Whitfield", "email": "eleanor.whitfield@example.com",
     "address_line1": "18 Maple Row", "city": "Springfield", "region": "IL", "postal_code": "62704",
     "country": "United States", "notes": "Monthly supporter; prefers email."},
    {"name": "José Martínez", "email": "jose.martinez@example.com",
     "address_line1": "402 Oak Street", "city": "Chatham", "region": "IL", "postal_code": "62629",
     "country": "United States"},
    {"name": "Priya Raman", "email": "priya.raman@example.net",
     "address_line1": "77 Lakeview Dr", "city": "Springfield", "region": "IL",
     "postal_code": "62711", "country": "United States"},
    {"name": "Grace Community Church", "email": "outreach@gracechurch.example.org",
     "is_organization": True, "address_line1": "1200 Church St", "city": "Springfield",
     "region": "IL", "postal_code": "62703", "country": "United States",
     "notes": "Runs a winter coat drive every November; sends a cheque each quarter."},
    {"name": "Daniel O'Connor", "email": "dan.oconnor@example.com", "prefers_anonymous": True,
     "address_line1": "9 Birch Ct", "city": "Rochester", "region": "IL", "postal_code": "62563",
     "country": "United States", "notes": "Asked not to be named in the newsletter."},
    {"name": "Mei Chen", "email": "mei.chen@example.com",
     "address_line1": "55 Elm Ave", "address_line2": "Apt 3B", "city": "Springfield",
     "region": "IL", "postal_code": "62702", "country": "United States"},
    {"name": "Rotary Club of Springfield", "email": "service@rotary-spi.example.org",
     "is_organization": True, "address_line1": "300 Capitol Ave", "city": "Springfield",
     "region": "IL", "postal_code": "62701", "country": "United States",
     "notes": "Gives once a year from its service fund."},
    {"name": "Fatima Haddad", "email": "fatima.haddad@example.com",
     "address_line1": "21 Prairie Ln", "city": "Sherman", "region": "IL", "postal_code": "62684",
     "country": "United States"},
    {"name": "Björn Larsson", "email": "bjorn.larsson@example.se",
     "address_line1": "Storgatan 12", "city": "Uppsala", "postal_code": "753 20",
     "country": "Sweden"},
    {"name": "Hannah Brooks", "email": "hannah.brooks@example.com",
     "address_line1": "640 Wabash Ave", "city": "Springfield", "region": "IL",
     "postal_code": "62704", "country": "United States"},
    {"name": "Sunrise Market", "email": "manager@sunrisemarket.example.com",
     "is_organization": True, "address_line1": "88 S Grand Ave", "city": "Springfield",
     "region": "IL", "postal_code": "62703", "country": "United States",
     "notes": "Donates non-perishable food monthly."},
    {"name": "Marcus Johnson", "email": "marcus.j@example.com",
     "address_line1": "15 Cedar Blvd", "city": "Petersburg", "region": "IL",
     "postal_code": "62675", "country": "United States"},
    {"name": "Samuel Okafor", "email": "samuel.okafor@example.com",
     "address_line1": "230 Walnut St", "city": "Springfield", "region": "IL",
     "postal_code": "62704", "country": "United States"},
    {"name": "Ruth Feldman", "email": "ruth.feldman@example.com",
     "address_line1": "4 Orchard Way", "city": "Chatham", "region": "IL", "postal_code": "62629",
     "country": "United States"},
    {"name": "Olivia Park", "email": "olivia.park@example.com",
     "address_line1": "1508 S 6th St", "city": "Springfield", "region": "IL",
     "postal_code": "62703", "country": "United States"},
    {"name": "Lena Fischer", "email": "lena.fischer@example.com",
     "address_line1": "62 Hawthorne Pl", "city": "Springfield", "region": "IL",
     "postal_code": "62711", "country": "United States",
     "notes": "Bought a ticket to the spring benefit dinner."},
    {"name": "Tomás Reyes", "email": "tomas.reyes@example.com",
     "address_line1": "915 N 5th St", "city": "Springfield", "region": "IL",
     "postal_code": "62702", "country": "United States"},
]  # fmt: skip

# People who first gave online: the checkout adds them as donors (name and email only).
NEW_ONLINE_DONORS = {
    "Chris Doyle": "chris.doyle@example.com",
    "Aisha Bello": "aisha.bello@example.net",
    "Kevin Walsh": "kevin.walsh@example.com",
    "Nadia Petrova": "nadia.petrova@example.org",
}

GENERAL, OPERATIONS, SERVICES = 0, 1, 2  # the default funds, in order

# When: days ago, or (month, day): the last such day before today (the appeals).
When = int | tuple[int, int]


@dataclass(frozen=True)
class Plan:
    """A monthly gift: who, how much, from how many days ago, and what happened to it."""

    donor: str
    dollars: int
    fund: int
    started: int  # days ago
    cover: bool = False
    declined: int | None = None  # this instalment (1 = the first renewal) was declined...
    retried_after: int = 3  # ...and went through this many days later
    last_declined: bool = False  # the latest instalment was declined: past due now
    cancelled: int | None = None  # days ago the donor stopped it


DEMO_PLANS = [
    Plan("Eleanor Whitfield", 40, GENERAL, started=430, cover=True),
    Plan("Mei Chen", 25, OPERATIONS, started=330, cover=True),
    Plan("José Martínez", 15, GENERAL, started=300, cancelled=118),
    Plan("Hannah Brooks", 20, SERVICES, started=250, declined=4),
    Plan("Tomás Reyes", 30, SERVICES, started=66, last_declined=True),
    Plan("Marcus Johnson", 10, OPERATIONS, started=19, cover=True),
]

# (when, donor, dollars, fund, cover the fee, extras)
DEMO_ONLINE_GIFTS: list[tuple[When, str, int, int, bool, dict]] = [
    (760, "Priya Raman", 75, SERVICES, False, {}),
    (400, "Björn Larsson", 100, GENERAL, False, {}),
    (350, "Samuel Okafor", 40, GENERAL, True, {}),
    (284, "Olivia Park", 25, OPERATIONS, False, {}),
    (230, "Fatima Haddad", 35, GENERAL, False, {}),
    ((5, 4), "José Martínez", 50, GENERAL, True, {}),
    ((5, 7), "Fatima Haddad", 50, SERVICES, False,
     {"tribute_type": TributeType.HONOR.value, "tribute_name": "Leila Haddad"}),
    ((5, 12), "Mei Chen", 60, SERVICES, False, {}),
    ((5, 19), "Aisha Bello", 40, SERVICES, True, {}),
    ((5, 27), "Olivia Park", 35, GENERAL, False, {}),
    (140, "Hannah Brooks", 30, GENERAL, False, {}),
    (75, "Ruth Feldman", 50, OPERATIONS, True, {}),
    (41, "Samuel Okafor", 60, OPERATIONS, False, {}),
    ((12, 2), "Chris Doyle", 50, GENERAL, True, {}),
    ((12, 3), "Hannah Brooks", 100, GENERAL, False, {}),
    ((12, 9), "Samuel Okafor", 150, OPERATIONS, False, {}),
    ((12, 14), "Ruth Feldman", 200, SERVICES, False,
     {"tribute_type": TributeType.MEMORY.value, "tribute_name": "Miriam Feldman",
      "tribute_notify_email": "david.feldman@example.com"}),
    ((12, 16), "Kevin Walsh", 75, GENERAL, True, {}),
    ((12, 21), "Daniel O'Connor", 1000, GENERAL, False, {"is_anonymous": True}),
    ((12, 22), "Nadia Petrova", 50, SERVICES, False, {}),
    ((12, 28), "Olivia Park", 75, OPERATIONS, True, {}),
    ((12, 30), "Marcus Johnson", 250, OPERATIONS, True, {}),
    ((12, 31), "Lena Fischer", 500, GENERAL, False, {}),
    (10, "Priya Raman", 100, SERVICES, False, {}),
    (6, "Samuel Okafor", 250, GENERAL, False,  # meant $25: the rest is refunded today
     {"refund": (22500, "requested_by_customer")}),
    (2, "Olivia Park", 100, OPERATIONS, False, {}),
    (2, "Olivia Park", 100, OPERATIONS, False,  # the same gift again, refunded today
     {"refund": (None, "duplicate")}),
    (1, "Chris Doyle", 30, SERVICES, True, {}),
]  # fmt: skip

# (when, donor, fund, method, dollars, cheque number, reference, extras)
DEMO_OFFLINE_GIFTS: list[tuple[When, str, int, str, int, str, str, dict]] = [
    (700, "Grace Community Church", GENERAL, "cheque", 500, "0988", "", {}),
    (560, "Rotary Club of Springfield", OPERATIONS, "cheque", 1500, "8640", "", {}),
    (420, "Grace Community Church", GENERAL, "cheque", 500, "1016", "", {}),
    (300, "Grace Community Church", GENERAL, "cheque", 500, "1042", "", {}),
    ((12, 20), "Sunrise Market", OPERATIONS, "bank_transfer", 750, "", "ACH ref 51877", {}),
    (210, "Rotary Club of Springfield", OPERATIONS, "cheque", 1500, "8817", "", {}),
    (178, "Grace Community Church", OPERATIONS, "cheque", 650, "1075", "", {}),
    ((4, 25), "Lena Fischer", GENERAL, "cheque", 150, "311", "Spring benefit dinner ticket",
     {"benefit_description": "Dinner at the spring benefit", "benefit_cents": 4500}),
    (150, "Eleanor Whitfield", SERVICES, "cash", 60, "", "Handed over at the spring open house",
     {}),
    (131, "Fatima Haddad", GENERAL, "cheque", 12, "2207", "",  # typed in wrong: corrected today
     {"corrected": (120, "The cheque is for $120.00; it was typed in as $12.00.")}),
    (95, "Sunrise Market", OPERATIONS, "bank_transfer", 750, "", "ACH ref 55120", {}),
    (60, "Daniel O'Connor", GENERAL, "securities", 5000, "",
     "20 shares of VTI, valued at the mean price on transfer", {"is_anonymous": True}),
    (20, "Grace Community Church", OPERATIONS, "cheque", 800, "1107", "", {}),
]  # fmt: skip


def load_demo() -> None:
    """Add the demo organisation, users, donors, funds, goods and gifts in this transaction."""
    # Off in the demo, so anyone can try it with the printed passwords; the
    # dashboard tells admins so.
    update_organization(actor=None, require_two_factor=False, **DEMO_ORGANIZATION)
    for email, name, role, password in DEMO_USERS:
        accounts.create_user(actor=None, email=email, name=name, role=role, password=password)
    people = [donors.create_donor(actor=None, **fields) for fields in DEMO_DONORS]
    load_demo_goods(donors=people)
    funds = giving.ensure_default_funds()
    treasurer = next(u for u in _users() if u.role == Role.TREASURER.value)
    _Year(people, funds, treasurer).tell()
    _date_donors()


def _date_donors() -> None:
    """Each donor was added when they first gave, not on the day the demo was loaded.

    A donor who has given nothing yet (money or goods) was added a few days
    before their first pledge, or, with none, on a day spread over the year.
    """
    first_gift = dict(
        db.session.execute(
            select(Gift.donor_id, func.min(Gift.received_at)).group_by(Gift.donor_id)
        ).all()
    )
    first_goods = dict(
        db.session.execute(
            select(StockDocument.donor_id, func.min(StockDocument.effective_date))
            .where(StockDocument.donor_id.is_not(None))
            .group_by(StockDocument.donor_id)
        ).all()
    )
    first_pledge = dict(
        db.session.execute(
            select(Pledge.donor_id, func.min(Pledge.created_at)).group_by(Pledge.donor_id)
        ).all()
    )
    now = datetime.now(UTC)
    for n, donor in enumerate(db.session.scalars(select(Donor).order_by(Donor.id))):
        moments = [first_gift.get(donor.id)]
        goods_day = first_goods.get(donor.id)
        if goods_day is not None:
            moments.append(datetime(goods_day.year, goods_day.month, goods_day.day, 9, tzinfo=UTC))
        pledged = first_pledge.get(donor.id)
        if pledged is not None:
            moments.append(pledged - timedelta(days=3))
        known = [m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments if m is not None]
        first = min(known) if known else now - timedelta(days=(n * 37) % 330 + 5)
        # A minute before: the record is made, then the gift is entered against it.
        donor.created_at = min(first, now) - timedelta(minutes=1)
        donor.updated_at = donor.created_at
    db.session.flush()


def _users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.id)))


class _Clock:
    """The local Stripe's clock: set to each gift's moment, never ahead of now."""

    def __init__(self) -> None:
        self.moment = time.time()

    def __call__(self) -> float:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = min(moment.timestamp(), time.time() - 1)


class _Year:
    """A year of the shelter's gifts, told in date order."""

    def __init__(self, people: list[Donor], funds: list[Fund], treasurer: User) -> None:
        self.donors = {d.name: d for d in people}
        self.funds = funds
        self.treasurer = treasurer
        self.today = datetime.now(UTC).date()
        self.clock = _Clock()
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
        self.this_week()

    def this_week(self) -> None:
        """Today: the treasurer corrects a cheque and refunds two online gifts."""
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
