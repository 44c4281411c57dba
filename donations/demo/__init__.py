"""Demo data: a small shelter, its staff, its donors and a year of their gifts.

Harbor Light Shelter runs two confidential shelter houses, a warehouse and a
public drop-off point (``donations.demo.goods`` tells their season of goods).
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

from donations.demo.goods import load_demo_goods
from donations.demo.loader import load_demo
from donations.demo.member import (
    DEMO_COALITION_ADMIN,
    DEMO_MEMBER,
    DEMO_MEMBER_SLUG,
    DEMO_MEMBER_USERS,
    DEMO_SHARED_STAFF,
)
from donations.demo.money import DEMO_OFFLINE_GIFTS, DEMO_ONLINE_GIFTS, DEMO_PLANS, Plan
from donations.demo.people import (
    DEMO_DONORS,
    DEMO_ORGANIZATION,
    DEMO_PARTNER,
    DEMO_PARTNER_AGENCY,
    DEMO_USERS,
    NEW_ONLINE_DONORS,
)

__all__ = [
    "DEMO_COALITION_ADMIN",
    "DEMO_DONORS",
    "DEMO_MEMBER",
    "DEMO_MEMBER_SLUG",
    "DEMO_MEMBER_USERS",
    "DEMO_OFFLINE_GIFTS",
    "DEMO_ONLINE_GIFTS",
    "DEMO_ORGANIZATION",
    "DEMO_PARTNER",
    "DEMO_PARTNER_AGENCY",
    "DEMO_PLANS",
    "DEMO_SHARED_STAFF",
    "DEMO_USERS",
    "NEW_ONLINE_DONORS",
    "Plan",
    "load_demo",
    "load_demo_goods",
]
