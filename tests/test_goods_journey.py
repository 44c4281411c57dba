"""The goods issue's "done when", walked through the pages as staff and a donor would."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    InKindGift,
    OutboxMessage,
    Pledge,
    PledgeStatus,
    StockDocument,
    StockLevel,
    utcnow,
)
from donations.services import inventory, recipients

TODAY = utcnow().date().isoformat()


def on_hand(site, item) -> int:
    level = db.session.get(StockLevel, (site.id, item.id))
    return level.on_hand if level else 0


def latest() -> StockDocument:
    return db.session.scalar(select(StockDocument).order_by(StockDocument.id.desc()))


def rows(*lines: tuple[str, ...]) -> dict[str, str]:
    data = {}
    for index, line in enumerate(lines):
        data[f"lines-{index}-item"] = line[0]
        data[f"lines-{index}-quantity"] = line[1]
        if len(line) > 2:
            data[f"lines-{index}-condition"] = line[2]
    return data


def posted(response) -> StockDocument:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    document = latest()
    assert response.headers["Location"].endswith(f"/inventory/documents/{document.id}")
    return document


def test_staff_and_a_donor_run_the_goods_side_end_to_end(staff_client, client, goods, create_donor):
    items, shelter, warehouse, dropoff = goods.items, goods.shelter, goods.warehouse, goods.dropoff
    donor = create_donor("Grace Hopper")
    inventory.set_par_levels(
        actor=None,
        site_id=shelter.id,
        levels={items["SOCKS-M"].id: 10, items["SOAP"].id: 4, items["KIT-HYG"].id: 2},
    )
    db.session.commit()
    needs_before = client.get("/needs").get_data(as_text=True)
    assert "Socks (M)" in needs_before and "Hygiene kit" in needs_before

    # A multi-line intake from a known donor, items entered by code and by name.
    intake = posted(
        staff_client.post(
            "/inventory/intake/new",
            data={
                "site_id": str(warehouse.id),
                "effective_date": TODAY,
                "source": "donor",
                "donor_id": str(donor.id),
                **rows(
                    ("SOCKS-M", "30", "new"),
                    ("Toothbrush", "6", "new"),
                    ("toothpaste", "6", "new"),
                    ("SOAP", "10", "good_used"),
                    ("SHAMPOO", "6", "new"),
                    ("", ""),
                ),
            },
        )
    )
    assert intake.donor_id == donor.id
    assert db.session.scalar(select(InKindGift.document_id)) == intake.id
    assert on_hand(warehouse, items["SOCKS-M"]) == 30

    # Distributions go to a program record (set up by the goods fixture; issue 11).
    program = recipients.find_active_recipient(name="Street outreach")

    # Too many for a program: refused, naming the item, the site, asked and on hand.
    too_many = staff_client.post(
        "/inventory/distribution/new",
        data={
            "site_id": str(warehouse.id),
            "effective_date": TODAY,
            "recipient_id": str(program.id),
            "case_code": "C-104",
            **rows(("SOCKS-M", "31")),
        },
    )
    assert too_many.status_code == 400
    page = too_many.get_data(as_text=True)
    assert "Socks (M) at Main warehouse: asked for 31, there are 30" in page
    assert f'<option selected value="{program.id}">' in page  # input kept

    # Distribute what is there to a program, then move stock to the shelter.
    posted(
        staff_client.post(
            "/inventory/distribution/new",
            data={
                "site_id": str(warehouse.id),
                "effective_date": TODAY,
                "recipient_id": str(program.id),
                "case_code": "C-104",
                **rows(("SOCKS-M", "12")),
            },
        )
    )
    posted(
        staff_client.post(
            "/inventory/transfer/new",
            data={
                "site_id": str(warehouse.id),
                "to_site_id": str(shelter.id),
                "effective_date": TODAY,
                **rows(
                    ("SOCKS-M", "18"),
                    ("TOOTHBRUSH", "6"),
                    ("TOOTHPASTE", "6"),
                    ("SOAP", "10"),
                    ("SHAMPOO", "6"),
                ),
            },
        )
    )
    assert on_hand(warehouse, items["SOCKS-M"]) == 0
    assert on_hand(shelter, items["SOCKS-M"]) == 18

    # Count a shelf: review the difference, then confirm it.
    review = staff_client.post(
        "/inventory/count/new",
        data={
            "site_id": str(shelter.id),
            "effective_date": TODAY,
            "lines-0-item_id": str(items["SOAP"].id),
            "lines-0-counted": "9",
            "review": "y",
        },
    )
    assert review.status_code == 200
    assert "Review the count" in review.get_data(as_text=True)
    assert on_hand(shelter, items["SOAP"]) == 10  # nothing yet
    posted(
        staff_client.post(
            "/inventory/count/new",
            data={
                "site_id": str(shelter.id),
                "effective_date": TODAY,
                "lines-0-item_id": str(items["SOAP"].id),
                "lines-0-counted": "9",
                "lines-0-expected": "10",
                "confirm": "y",
            },
        )
    )
    assert on_hand(shelter, items["SOAP"]) == 9

    # Assemble hygiene kits at the shelter.
    posted(
        staff_client.post(
            "/inventory/kits",
            data={
                "kit_item_id": str(items["KIT-HYG"].id),
                "site_id": str(shelter.id),
                "quantity": "5",
                "action": "assemble",
                "effective_date": TODAY,
            },
        )
    )
    assert on_hand(shelter, items["KIT-HYG"]) == 5
    assert on_hand(shelter, items["SOCKS-M"]) == 13
    assert on_hand(shelter, items["SOAP"]) == 4

    # The needs list changed: kits are at par now, socks still short.
    needs_after = client.get("/needs").get_data(as_text=True)
    assert "Hygiene kit" not in needs_after
    assert "Soap" not in needs_after
    assert "Harbor House" not in needs_after and "12 Hidden Lane" not in needs_after

    # A donor pledges from the public needs list; staff receive it in two parts.
    pledge_page = client.post(
        "/needs/pledge",
        data={
            "name": "Lin Donor",
            "email": "lin@example.com",
            "site_id": str(dropoff.id),
            "expected_on": (utcnow().date() + timedelta(days=2)).isoformat(),
            "lines-0-item": str(items["SOCKS-M"].id),
            "lines-0-quantity": "10",
        },
    )
    assert pledge_page.status_code == 302
    pledge = db.session.scalar(select(Pledge))
    line = pledge.lines[0]
    assert staff_client.get("/inventory/pledges").status_code == 200
    for quantity in ("4", "6"):
        posted(
            staff_client.post(
                f"/inventory/pledges/{pledge.id}/receive",
                data={
                    "effective_date": TODAY,
                    "site_id": str(dropoff.id),
                    f"quantity-{line.id}": quantity,
                    f"condition-{line.id}": "new",
                },
            )
        )
    db.session.refresh(pledge)
    assert pledge.status == PledgeStatus.RECEIVED
    assert on_hand(dropoff, items["SOCKS-M"]) == 10
    thanked = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.to_addr == "lin@example.com", OutboxMessage.kind == "goods_thanks")
    )
    assert thanked == 2

    # Every balance still equals its ledger.
    assert inventory.verify_balances() == []
