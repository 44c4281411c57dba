"""Demo goods: one season of donated goods at a small shelter, told through the ledger.

Everything goes through the services, in date order, so balances, in-kind
gifts, kit components and the audit log come out as they would from the
pages. Over the last 90 days: donors and a church bring toiletries, a grocer
brings food each month, a high school runs a coat drive, neighbours leave bags at the
drop-off point anonymously; the warehouse sends stock on to two confidential
shelters, which give it out to their programs and partners (a staff-chosen
case code at most, never a person); a roof leak spoils some blankets; Harbor
House counts its shelves; hygiene kits are put together; one distribution
entered twice is reversed. The season ends with some items under par (a few
urgently), so the needs list and the dashboard have something to say, and
two donors have pledged goods to the drop-off point.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select

from donations.extensions import db
from donations.models import Donor, Item, Role, utcnow
from donations.services import accounts, catalog, inventory, pledges, recipients

PROGRAMS = ("Street outreach", "Legal advocacy partner", "Transitional housing program")
# Each recipient is a record: the organisation's programs and its partner agencies.
RECIPIENTS = (
    ("program", "Street outreach", ""),
    ("partner", "Legal advocacy partner", "Intake desk, legal-aid office (weekdays)"),
    ("program", "Transitional housing program", ""),
    ("program", "Residential program", ""),
    ("partner", "Safe Passage clinic", "Front desk of the clinic"),
)
# Fair value per unit (cents) of the items donors give most, for the grant report: the
# price of similar goods (an item code, or its stem before the size).
DEMO_FAIR_VALUES = {
    "TOOTHBRUSH": 150,
    "TOOTHPASTE": 300,
    "SOAP": 125,
    "SHAMPOO": 450,
    "DEODORANT": 400,
    "SOCKS": 250,
    "UNDERWEAR": 500,
    "COAT-A": 4_000,
    "COAT-C": 2_500,
    "SLEEPBAG": 3_500,
    "BLANKET": 2_000,
    "WIPES": 350,
    "FOOD-RICE": 200,
    "FOOD-VEG": 150,
}
ARCHIVED_RECIPIENTS = (("program", "Summer drop-in (closed)", ""),)

DEMO_SITES = {
    "harbor": {
        "name": "Harbor House",
        "kind": "shelter",
        "is_confidential": True,
        "address_line1": "12 Hidden Lane",
        "city": "Springfield",
        "region": "IL",
        "contact_email": "harborhouse@harborlight.example.org",
    },
    "second": {
        "name": "Second Step House",
        "kind": "shelter",
        "is_confidential": True,
        "address_line1": "88 Quiet Court",
        "city": "Springfield",
        "region": "IL",
    },
    "warehouse": {
        "name": "Main warehouse",
        "kind": "warehouse",
        "address_line1": "400 Dock Road, Unit 7",
        "city": "Springfield",
        "region": "IL",
        "postal_code": "62702",
    },
    "dropoff": {
        "name": "Downtown drop-off",
        "kind": "dropoff",
        "address_line1": "5 Market Street",
        "city": "Springfield",
        "region": "IL",
        "postal_code": "62701",
        "public_hours": "Mon-Fri 9 am-5 pm, Sat 10 am-2 pm; ring the side door",
    },
}

# What each shelter aims to hold (item code: par level).
PAR_LEVELS = {
    "harbor": {
        "TOOTHBRUSH": 16, "TOOTHPASTE": 10, "SOAP": 16, "SHAMPOO": 8, "DEODORANT": 8,
        "PADS": 20, "TAMPONS": 8, "SOCKS-S": 10, "SOCKS-M": 24, "UNDERWEAR-S": 4,
        "UNDERWEAR-M": 12, "BLANKET": 6, "COAT-A-M": 3, "COAT-A-L": 4, "FOOD-RICE": 6,
        "FOOD-PB": 4,
    },
    "second": {
        "DIAPERS-3": 10, "WIPES": 4, "FORMULA": 8, "TOOTHBRUSH": 10, "TOOTHPASTE": 8,
        "SOAP": 10, "SHAMPOO": 6, "PADS": 5, "COAT-C-S": 2, "COAT-C-M": 2, "BLANKET": 6,
        "FOOD-VEG": 12, "FOOD-RICE": 6,
    },
}  # fmt: skip

COAT_DRIVE = "Lincoln High winter coat drive"


def load_demo_goods(*, donors: Sequence[Donor]) -> None:
    """Add the demo sites, par levels and a season of goods in the current transaction.

    ``donors`` are the demo donors, found here by name. Call after they exist.
    """
    _Season(donors).tell()


class _Season:
    def __init__(self, donors: Sequence[Donor]) -> None:
        self.donors = {d.name: d for d in donors}
        self.today = utcnow().date()
        self.actor = db.session.scalar(accounts.active_members(Role.STAFF).limit(1))

    # --- small helpers -------------------------------------------------------

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    def lines(self, quantities: dict[str, int], condition: str = "") -> list[inventory.Line]:
        return [
            inventory.Line(self.items[code].id, quantity, condition)
            for code, quantity in quantities.items()
        ]

    def intake(self, days_ago: int, site: str, quantities: dict[str, int], **kwargs) -> None:
        condition = kwargs.pop("condition", "new")
        if "donor" in kwargs:
            kwargs["donor_id"] = self.donors[kwargs.pop("donor")].id
            kwargs["source"] = "donor"
        inventory.record_intake(
            actor=self.actor,
            site_id=self.sites[site].id,
            effective_date=self.day(days_ago),
            lines=self.lines(quantities, condition),
            **kwargs,
        )

    def give(
        self, days_ago: int, site: str, program: int, case_code: str, quantities: dict[str, int]
    ):
        return inventory.record_distribution(
            actor=self.actor,
            site_id=self.sites[site].id,
            effective_date=self.day(days_ago),
            recipient=PROGRAMS[program],
            case_code=case_code,
            lines=self.lines(quantities),
        )

    def move(self, days_ago: int, source: str, target: str, quantities: dict[str, int]) -> None:
        inventory.record_transfer(
            actor=self.actor,
            from_site_id=self.sites[source].id,
            to_site_id=self.sites[target].id,
            effective_date=self.day(days_ago),
            lines=self.lines(quantities),
        )

    # --- the story -----------------------------------------------------------

    def tell(self) -> None:
        catalog.seed_catalog()
        self.items = {i.code: i for i in db.session.scalars(select(Item))}
        for code, item in self.items.items():  # fair values for the grant report's in-kind
            cents = DEMO_FAIR_VALUES.get(code) or DEMO_FAIR_VALUES.get(code.rsplit("-", 1)[0])
            if cents is not None:
                catalog.update_item(actor=None, item=item, fair_value_cents=cents)
        self.sites = {
            key: catalog.create_site(actor=None, **fields) for key, fields in DEMO_SITES.items()
        }
        for kind, name, contact in RECIPIENTS + ARCHIVED_RECIPIENTS:
            recipients.create_recipient(actor=None, kind=kind, name=name, contact=contact)
        for _kind, name, _contact in ARCHIVED_RECIPIENTS:
            archived = recipients.find_active_recipient(name=name)
            recipients.set_recipient_active(actor=None, recipient_id=archived.id, active=False)
        for key, levels in PAR_LEVELS.items():
            inventory.set_par_levels(
                actor=None,
                site_id=self.sites[key].id,
                levels={self.items[code].id: par for code, par in levels.items()},
            )
        self.stock_up()
        self.winter()
        self.lately()
        self.pledges()

    def stock_up(self) -> None:
        """Days 90-75: donations fill the warehouse, which sends stock to both houses."""
        self.intake(
            88, "warehouse",
            {"TOOTHBRUSH": 80, "TOOTHPASTE": 70, "SOAP": 80, "SHAMPOO": 50, "DEODORANT": 30,
             "SOCKS-S": 24, "SOCKS-M": 60, "SOCKS-L": 24},
            donor="Grace Community Church", donor_value_cents=41500,
            note="Collected at the spring outreach Sunday.",
        )  # fmt: skip
        self.intake(
            87, "warehouse", {"FOOD-VEG": 96, "FOOD-RICE": 30, "FOOD-PB": 24},
            donor="Sunrise Market", note="Monthly food donation.",
        )  # fmt: skip
        self.intake(
            86, "dropoff",
            {"PADS": 30, "TAMPONS": 16, "UNDERWEAR-S": 12, "UNDERWEAR-M": 24, "UNDERWEAR-L": 10},
            donor="Fatima Haddad",
        )  # fmt: skip
        self.intake(
            85, "warehouse", {"BLANKET": 40, "SLEEPBAG": 28},
            donor="Rotary Club of Springfield", donor_value_cents=120000,
            note="Delivered by the club's service committee.",
        )  # fmt: skip
        self.move(
            84, "dropoff", "warehouse",
            {"PADS": 30, "TAMPONS": 16, "UNDERWEAR-S": 12, "UNDERWEAR-M": 24, "UNDERWEAR-L": 10},
        )  # fmt: skip
        self.move(
            83, "warehouse", "harbor",
            {"TOOTHBRUSH": 28, "TOOTHPASTE": 26, "SOAP": 32, "SHAMPOO": 16, "DEODORANT": 16,
             "PADS": 22, "TAMPONS": 12, "SOCKS-S": 14, "SOCKS-M": 30, "UNDERWEAR-S": 12,
             "UNDERWEAR-M": 22, "BLANKET": 14, "FOOD-RICE": 14, "FOOD-PB": 12},
        )  # fmt: skip
        self.move(
            83, "warehouse", "second",
            {"TOOTHBRUSH": 16, "TOOTHPASTE": 14, "SOAP": 16, "SHAMPOO": 10, "PADS": 8,
             "BLANKET": 10, "FOOD-VEG": 36, "FOOD-RICE": 12},
        )  # fmt: skip
        self.intake(
            80, "dropoff", {"SOCKS-M": 18, "TOOTHPASTE": 12, "BLANKET": 6},
            source="anonymous", condition="good_used", note="Two bags left at the side door.",
        )  # fmt: skip
        self.give(
            78, "harbor", 2, "C-104",
            {"TOOTHBRUSH": 2, "TOOTHPASTE": 2, "SOAP": 3, "SHAMPOO": 1, "SOCKS-M": 4,
             "UNDERWEAR-M": 3, "PADS": 2, "FOOD-RICE": 2},
        )  # fmt: skip
        self.intake(
            76, "warehouse", {"DIAPERS-3": 20, "WIPES": 24, "FORMULA": 12},
            donor="Mei Chen", donor_value_cents=26000, note="From her workplace baby shower drive.",
        )  # fmt: skip
        self.move(75, "warehouse", "second", {"DIAPERS-3": 16, "WIPES": 18, "FORMULA": 10})

    def winter(self) -> None:
        """Days 74-40: kits for outreach, the coat drive, a leak, and steady giving out."""
        inventory.assemble_kits(
            actor=self.actor,
            site_id=self.sites["warehouse"].id,
            kit_item_id=self.items["KIT-HYG"].id,
            quantity=24,
            effective_date=self.day(72),
            note="Packed by volunteers on Saturday.",
        )
        self.give(
            70, "warehouse", 0, "",
            {"KIT-HYG": 14, "BLANKET": 8, "SLEEPBAG": 10, "SOCKS-L": 12},
        )  # fmt: skip
        self.give(68, "second", 2, "C-117", {"DIAPERS-3": 3, "WIPES": 4, "FORMULA": 2, "SOAP": 2})
        self.intake(
            62, "dropoff",
            {"COAT-A-S": 4, "COAT-A-M": 9, "COAT-A-L": 8, "COAT-A-XL": 3, "COAT-C-S": 6,
             "COAT-C-M": 7, "COAT-C-L": 3},
            source="drive", drive_name=COAT_DRIVE, condition="good_used",
        )  # fmt: skip
        self.intake(
            60, "dropoff", {"COAT-A-M": 3, "COAT-A-L": 2, "COAT-C-M": 2},
            source="drive", drive_name=COAT_DRIVE, condition="new",
        )  # fmt: skip
        self.move(
            58, "dropoff", "warehouse",
            {"COAT-A-S": 4, "COAT-A-M": 12, "COAT-A-L": 10, "COAT-A-XL": 3, "COAT-C-S": 6,
             "COAT-C-M": 9, "COAT-C-L": 3, "SOCKS-M": 18, "TOOTHPASTE": 12, "BLANKET": 6},
        )  # fmt: skip
        self.intake(
            57, "warehouse", {"FOOD-VEG": 48, "FOOD-RICE": 12},
            donor="Sunrise Market", note="Monthly food donation.",
        )  # fmt: skip
        self.move(57, "warehouse", "harbor", {"COAT-A-M": 6, "COAT-A-L": 5, "KIT-HYG": 10})
        self.move(57, "warehouse", "second", {"COAT-C-S": 5, "COAT-C-M": 6})
        self.give(55, "warehouse", 0, "", {"COAT-A-M": 4, "COAT-A-L": 3, "COAT-A-XL": 2})
        inventory.record_adjustment(
            actor=self.actor,
            site_id=self.sites["warehouse"].id,
            effective_date=self.day(52),
            reason="damaged",
            lines=self.lines({"BLANKET": 4, "SLEEPBAG": 1}),
            note="Water damage from the roof leak in bay 2; thrown away.",
        )
        self.give(
            50, "harbor", 1, "C-121",
            {"KIT-HYG": 2, "COAT-A-M": 1, "SOCKS-M": 3, "UNDERWEAR-M": 2},
        )  # fmt: skip
        self.give(
            48, "harbor", 2, "C-104",
            {"TOOTHPASTE": 3, "SOAP": 4, "SHAMPOO": 3, "DEODORANT": 3, "PADS": 4, "TAMPONS": 2,
             "FOOD-RICE": 4, "FOOD-PB": 3},
        )  # fmt: skip
        self.give(
            45, "second", 2, "C-130",
            {"COAT-C-S": 2, "COAT-C-M": 2, "DIAPERS-3": 4, "WIPES": 5, "FOOD-VEG": 10},
        )  # fmt: skip
        self.intake(
            42, "dropoff", {"SOCKS-S": 10, "SOCKS-M": 14, "DEODORANT": 8},
            donor="Hannah Brooks", donor_value_cents=9000,
        )  # fmt: skip
        self.give(40, "warehouse", 0, "", {"SOCKS-M": 12, "FOOD-PB": 10, "FOOD-VEG": 12})

    def lately(self) -> None:
        """Days 39-0: a shelf count, more giving out than coming in, one mistake undone today."""
        harbor = self.sites["harbor"]
        counts = {
            self.items["SOAP"].id: 23,  # expected 25: two bars missing
            self.items["SOCKS-M"].id: 24,  # expected 23: one pair found
            self.items["BLANKET"].id: 14,
        }
        inventory.record_count(
            actor=self.actor,
            site_id=harbor.id,
            effective_date=self.day(35),
            counts=counts,
            note="Quarterly shelf count of the supply closet.",
        )
        self.give(
            33, "harbor", 2, "C-142",
            {"TOOTHBRUSH": 4, "TOOTHPASTE": 4, "SOAP": 4, "PADS": 5, "TAMPONS": 4,
             "UNDERWEAR-S": 4, "UNDERWEAR-M": 4, "BLANKET": 3},
        )  # fmt: skip
        self.give(
            30, "second", 1, "C-117",
            {"TOOTHBRUSH": 3, "TOOTHPASTE": 3, "SOAP": 3, "SHAMPOO": 2, "DIAPERS-3": 4,
             "WIPES": 4, "FORMULA": 3},
        )  # fmt: skip
        self.move(
            28, "warehouse", "harbor",
            {"TOOTHBRUSH": 6, "SOAP": 8, "SOCKS-S": 6, "UNDERWEAR-M": 2},
        )  # fmt: skip
        self.intake(
            27, "warehouse", {"FOOD-VEG": 48, "FOOD-PB": 12},
            donor="Sunrise Market", note="Monthly food donation.",
        )  # fmt: skip
        self.intake(
            25, "dropoff", {"TOOTHBRUSH": 20, "SHAMPOO": 6, "FOOD-RICE": 12},
            source="anonymous", note="Left in the donation bin over the weekend.",
        )  # fmt: skip
        self.give(
            22, "harbor", 0, "",
            {"SOCKS-M": 10, "SOCKS-S": 8, "KIT-HYG": 4, "DEODORANT": 5, "COAT-A-L": 3},
        )  # fmt: skip
        self.give(
            20, "harbor", 2, "C-150",
            {"PADS": 6, "TAMPONS": 1, "UNDERWEAR-M": 5, "UNDERWEAR-S": 4, "SHAMPOO": 4},
        )  # fmt: skip
        self.give(
            18, "second", 2, "C-130",
            {"DIAPERS-3": 5, "WIPES": 4, "FORMULA": 3, "PADS": 3, "FOOD-VEG": 12, "FOOD-RICE": 5},
        )  # fmt: skip
        self.intake(
            16, "dropoff", {"DIAPERS-3": 8, "WIPES": 6},
            donor="José Martínez", note="Bought on the way in after seeing the needs list.",
        )  # fmt: skip
        self.move(15, "dropoff", "second", {"DIAPERS-3": 8, "WIPES": 6})
        self.give(14, "harbor", 1, "C-121", {"KIT-HYG": 2, "TOOTHPASTE": 3, "FOOD-PB": 4})
        self.give(
            10, "harbor", 2, "C-104",
            {"TOOTHBRUSH": 2, "SOAP": 3, "FOOD-RICE": 2, "SOCKS-M": 4},
        )  # fmt: skip
        twice = self.give(
            9, "harbor", 2, "C-104",
            {"TOOTHBRUSH": 2, "SOAP": 3, "FOOD-RICE": 2, "SOCKS-M": 4},
        )  # fmt: skip
        self.give(
            6, "second", 2, "C-158",
            {"DIAPERS-3": 3, "WIPES": 3, "FORMULA": 2, "COAT-C-S": 2, "COAT-C-M": 2, "BLANKET": 3},
        )  # fmt: skip
        self.give(4, "warehouse", 0, "", {"SLEEPBAG": 4, "SOCKS-M": 10, "FOOD-VEG": 24})
        self.give(
            2, "harbor", 2, "C-163",
            {"PADS": 3, "UNDERWEAR-M": 4, "TOOTHPASTE": 3, "BLANKET": 4},
        )  # fmt: skip
        self.give(1, "harbor", 0, "", {"SOCKS-M": 5, "KIT-HYG": 1, "COAT-A-M": 1})
        # Today: going through the ledger, staff find the hand-off of day 9 entered twice.
        inventory.reverse_document(
            actor=self.actor,
            document_id=twice.id,
            note="Entered twice: the same hand-off was already recorded the day before.",
        )

    def pledges(self) -> None:
        """Two donors have offered goods for the drop-off point; both still to come."""
        for donor, days_ahead, quantities, note in (
            ("Priya Raman", 3, {"PADS": 12, "TAMPONS": 6, "TOOTHPASTE": 10}, ""),
            (
                "Marcus Johnson",
                6,
                {"SOCKS-M": 20, "COAT-A-L": 2, "FORMULA": 4},
                "Bringing these after work, around 4 pm.",
            ),
        ):
            person = self.donors[donor]
            pledges.make_pledge(
                pledges.PledgeRequest(
                    name=person.name,
                    email=person.email,
                    site_id=self.sites["dropoff"].id,
                    expected_on=self.today + timedelta(days=days_ahead),
                    lines=self.lines(quantities),
                    note=note,
                )
            )
