"""The coalition's second member shelter in the demo: its own profile, catalog, sites,
funds and needs, at /o/north-star/…, and on the coalition's needs board beside the first."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from donations.extensions import db
from donations.models import Item
from donations.services import accounts, catalog, giving, inventory, organizations
from donations.services.organization import update_organization
from donations.tenancy import use_organization

DEMO_MEMBER_SLUG = "north-star"
DEMO_MEMBER = {
    "legal_name": "North Star Refuge",
    "tax_id": "98-7654321",
    "address_line1": "PO Box 77",
    "city": "Lakeview",
    "region": "IL",
    "postal_code": "60601",
    "country": "United States",
    "email": "hello@northstar.example.org",
    "signatory_name": "Dana Okafor",
    "signatory_title": "Executive Director",
}
# Its own people (a member of the first shelter's staff also helps here), and the
# coalition's admin, who belongs to neither.
DEMO_MEMBER_USERS = [
    ("dana@northstar.example.org", "Dana Okafor", "admin", "north-admin-pass"),
    ("lee@northstar.example.org", "Lee Park", "staff", "north-staff-pass"),
]
DEMO_SHARED_STAFF = "staff@example.org"
DEMO_COALITION_ADMIN = ("coalition@example.org", "Cora Coalition", "coalition-demo-pass")
# (item code, on hand, par): under half of par is urgent, under par is needed.
DEMO_MEMBER_STOCK = (
    ("SLEEPBAG", 2, 12),
    ("COAT-A-L", 1, 6),
    ("TOOTHBRUSH", 20, 30),
    ("SOCKS-M", 8, 10),
    ("BLANKET", 15, 10),
)


def load_demo_member() -> None:
    """Add the second member shelter, its people and what it needs now, and the
    coalition's admin."""
    member = organizations.create_organization(
        actor=None, slug=DEMO_MEMBER_SLUG, legal_name=DEMO_MEMBER["legal_name"]
    )
    db.session.flush()
    with use_organization(member.id):
        # Off in the demo, as for the first member: the printed passwords are enough.
        update_organization(actor=None, require_two_factor=False, **DEMO_MEMBER)
        for email, name, role, password in DEMO_MEMBER_USERS:
            accounts.create_user(actor=None, email=email, name=name, role=role, password=password)
        # An account that exists already gains the membership and keeps its password.
        accounts.create_user(
            actor=None, email=DEMO_SHARED_STAFF, name="", role="staff", password=""
        )
        catalog.seed_catalog()
        giving.ensure_default_funds()
        shelter = catalog.create_site(
            actor=None,
            name="North Star House",
            kind="shelter",
            is_confidential=True,
            address_line1="Undisclosed",
            city="Lakeview",
        )
        catalog.create_site(
            actor=None,
            name="Lakeview drop-off",
            kind="dropoff",
            address_line1="210 Harbor Ave",
            city="Lakeview",
            public_hours="Tue and Thu 10-6, Sat 9-1",
        )
        db.session.flush()
        codes = {code for code, _on_hand, _par in DEMO_MEMBER_STOCK}
        items = {
            item.code: item.id
            for item in db.session.scalars(select(Item).where(Item.code.in_(codes)))
        }
        lines = [
            inventory.Line(items[code], on_hand, "new")
            for code, on_hand, _par in DEMO_MEMBER_STOCK
            if code in items
        ]
        inventory.record_intake(
            actor=None,
            site_id=shelter.id,
            effective_date=date.today(),
            source="anonymous",
            lines=lines,
        )
        inventory.set_par_levels(
            actor=None,
            site_id=shelter.id,
            levels={items[code]: par for code, _on_hand, par in DEMO_MEMBER_STOCK if code in items},
        )
        db.session.flush()
    email, name, password = DEMO_COALITION_ADMIN
    accounts.create_coalition_admin(actor=None, email=email, name=name, password=password)
    db.session.flush()
