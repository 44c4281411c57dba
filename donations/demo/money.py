"""Demo money: the monthly plans, online gifts and gifts by hand of the shelter's year."""

from __future__ import annotations

from dataclasses import dataclass

from donations.models import TributeType

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
