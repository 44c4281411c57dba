"""Demo data: a small shelter with its staff and a dozen donors."""

from __future__ import annotations

from datetime import date, timedelta

from donations.demo_goods import load_demo_goods
from donations.models import Frequency, Role
from donations.services import accounts, donors, gifts, giving, notifications, payments
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
     "country": "United States", "notes": "Monthly supporter since 2019; prefers email."},
    {"name": "José Martínez", "email": "jose.martinez@example.com",
     "address_line1": "402 Oak Street", "city": "Chatham", "region": "IL", "postal_code": "62629",
     "country": "United States"},
    {"name": "Priya Raman", "email": "priya.raman@example.net",
     "address_line1": "77 Lakeview Dr", "city": "Springfield", "region": "IL",
     "postal_code": "62711", "country": "United States"},
    {"name": "Grace Community Church", "email": "outreach@gracechurch.example.org",
     "is_organization": True, "address_line1": "1200 Church St", "city": "Springfield",
     "region": "IL", "postal_code": "62703", "country": "United States",
     "notes": "Runs a winter coat drive every November."},
    {"name": "Daniel O'Connor", "email": "dan.oconnor@example.com", "prefers_anonymous": True,
     "address_line1": "9 Birch Ct", "city": "Rochester", "region": "IL", "postal_code": "62563",
     "country": "United States", "notes": "Asked not to be named in the newsletter."},
    {"name": "Mei Chen", "email": "mei.chen@example.com",
     "address_line1": "55 Elm Ave", "address_line2": "Apt 3B", "city": "Springfield",
     "region": "IL", "postal_code": "62702", "country": "United States"},
    {"name": "Rotary Club of Springfield", "email": "service@rotary-spi.example.org",
     "is_organization": True, "address_line1": "300 Capitol Ave", "city": "Springfield",
     "region": "IL", "postal_code": "62701", "country": "United States"},
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
]  # fmt: skip


# (donor index, fund index, method, dollars, days ago, cheque number, reference)
DEMO_OFFLINE_GIFTS = [
    (3, 0, "cheque", 500, 300, "1042", ""),
    (6, 1, "cheque", 1500, 210, "8817", ""),
    (0, 2, "cash", 60, 150, "", "Collection at the spring open house"),
    (10, 1, "bank_transfer", 750, 95, "", "ACH ref 55120"),
    (4, 0, "securities", 5000, 60, "", "20 shares of VTI, valued at the mean price on transfer"),
    (3, 1, "cheque", 800, 20, "1107", ""),
]
# (donor index, dollars, fund index, monthly, cover the fee)
DEMO_ONLINE_GIFTS = [
    (1, 50, 0, False, True),
    (2, 100, 2, False, False),
    (5, 25, 1, True, True),
    (7, 35, 0, False, False),
    (9, 20, 2, True, False),
    (11, 250, 1, False, True),
]


def load_demo() -> None:
    """Add the demo organisation, users, donors, funds and gifts in the current transaction."""
    update_organization(actor=None, **DEMO_ORGANIZATION)
    admin = None
    for email, name, role, password in DEMO_USERS:
        user = accounts.create_user(
            actor=None, email=email, name=name, role=role, password=password
        )
        admin = admin or user
    people = [donors.create_donor(actor=None, **fields) for fields in DEMO_DONORS]
    load_demo_goods(donors=people)
    funds = giving.ensure_default_funds()
    today = date.today()
    for donor_i, fund_i, method, dollars, days_ago, cheque, reference in DEMO_OFFLINE_GIFTS:
        offline = gifts.record_offline_gift(
            actor=admin,
            donor_id=people[donor_i].id,
            fund_id=funds[fund_i].id,
            method=method,
            amount_cents=dollars * 100,
            currency="USD",
            received_on=today - timedelta(days=days_ago),
            cheque_number=cheque,
            reference=reference,
        )
        notifications.thank_donor(offline)  # with its receipt, as the form does by default
    if payments.is_test_mode():
        for n, (donor_i, dollars, fund_i, monthly, cover) in enumerate(DEMO_ONLINE_GIFTS):
            _give_online(people[donor_i], funds[fund_i], dollars * 100, monthly, cover, n)


def _give_online(donor, fund, amount_cents: int, monthly: bool, cover: bool, n: int) -> None:
    """Give through the test-mode checkout, so fees and events are real-shaped."""
    donation = giving.Donation(
        amount_cents=amount_cents,
        currency="USD",
        frequency=Frequency.MONTHLY if monthly else Frequency.ONE_TIME,
        fund_id=fund.id,
        cover_fee=cover,
        name=donor.name,
        email=donor.email or f"demo{n}@example.com",
    )
    gift = giving.prepare_checkout(donation=donation, attempt_id=f"demo-{n}")
    session = giving.open_checkout_session(
        gift=gift,
        gateway=payments.get_gateway(),
        success_url=absolute_url("give.thanks", token=giving.gift_token(gift)),
        cancel_url=absolute_url("give.cancelled", token=giving.gift_token(gift)),
    )
    payments.complete_test_checkout(session_id=session.id, outcome="paid")
