"""The goods ledger: documents, balances, shortages, reversals, counts, kits and alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from donations.extensions import db
from donations.models import (
    InKindGift,
    OutboxMessage,
    StockDocument,
    StockEntry,
    StockLevel,
    utcnow,
)
from donations.services import catalog, inventory
from donations.services.errors import InvalidInput, NotAllowed

TODAY = utcnow().date()


def on_hand(site, item) -> int:
    level = db.session.get(StockLevel, (site.id, item.id))
    return level.on_hand if level else 0


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(StockDocument)),
        db.session.scalar(select(func.count()).select_from(StockEntry)),
    )


def fail(callable_, *args, **kwargs):
    """Call a service that must refuse; roll back as a view does; return the error."""
    before = counts()
    with pytest.raises((InvalidInput, NotAllowed, inventory.InsufficientStock)) as info:
        callable_(*args, **kwargs)
    db.session.rollback()
    assert counts() == before, "a refused document wrote rows"
    return info.value


# --- intake ----------------------------------------------------------------------


def test_intake_from_a_donor_adds_stock_and_an_in_kind_gift(goods, create_donor):
    donor = create_donor("Ada Giver")
    document = inventory.record_intake(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=TODAY,
        source="donor",
        donor_id=donor.id,
        donor_value_cents=12_500,
        lines=[
            goods.line("SOCKS-M", 10, "new"),
            goods.line("COAT-A-L", 2, "good_used"),
            goods.line("SOCKS-M", 5, "new"),  # the same item again: merged
        ],
    )
    db.session.commit()
    assert on_hand(goods.warehouse, goods.items["SOCKS-M"]) == 15
    assert on_hand(goods.warehouse, goods.items["COAT-A-L"]) == 2
    assert [(e.quantity, e.condition) for e in document.entries] == [
        (15, "new"),
        (2, "good_used"),
    ]
    gift = db.session.scalar(select(InKindGift))
    assert gift.donor_id == donor.id
    assert gift.document_id == document.id
    assert gift.received_on == TODAY
    assert gift.donor_value_cents == 12_500


def test_intake_from_a_drive_needs_its_name_and_makes_no_in_kind_gift(goods):
    error = fail(
        inventory.record_intake,
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=TODAY,
        source="drive",
        lines=[goods.line("BLANKET", 3, "new")],
    )
    assert error.field == "drive_name"
    inventory.record_intake(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=TODAY,
        source="drive",
        drive_name="  Lincoln   High coat drive ",
        donor_value_cents=500,  # ignored: only a donor's intake has an estimate
        lines=[goods.line("BLANKET", 3, "new")],
    )
    db.session.commit()
    document = db.session.scalar(select(StockDocument))
    assert document.drive_name == "Lincoln High coat drive"
    assert db.session.scalar(select(func.count()).select_from(InKindGift)) == 0


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, "above zero"),
        (-3, "above zero"),
        (2.5, "whole numbers"),
        ("7", "whole numbers"),
        (inventory.QUANTITY_MAX + 1, "at most"),
    ],
)
def test_bad_quantities_are_refused(goods, quantity, message):
    error = fail(
        inventory.record_intake,
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        source="anonymous",
        lines=[inventory.Line(goods.items["SOAP"].id, quantity, "new")],
    )
    assert message in error.message


def test_unknown_item_site_condition_and_dates_are_refused(goods):
    base = {
        "actor": None,
        "site_id": goods.shelter.id,
        "effective_date": TODAY,
        "source": "anonymous",
        "lines": [goods.line("SOAP", 1, "new")],
    }
    assert (
        "catalog"
        in fail(
            inventory.record_intake, **{**base, "lines": [inventory.Line(99_999, 1, "new")]}
        ).message
    )
    assert fail(inventory.record_intake, **{**base, "site_id": 99_999}).field == "site_id"
    assert fail(inventory.record_intake, **{**base, "lines": [goods.line("SOAP", 1, "mint")]})
    assert fail(inventory.record_intake, **{**base, "lines": []}).field == "lines"
    future = TODAY + timedelta(days=5)
    assert "future" in fail(inventory.record_intake, **{**base, "effective_date": future}).message
    old = TODAY - timedelta(days=400)
    assert "a year" in fail(inventory.record_intake, **{**base, "effective_date": old}).message
    assert fail(inventory.record_intake, **{**base, "source": "stork"}).field == "source"


def test_inactive_items_and_closed_sites_receive_nothing(goods):
    catalog.update_item(actor=None, item=goods.items["SOAP"], active=False)
    catalog.update_site(actor=None, site=goods.warehouse, active=False)
    db.session.commit()
    assert (
        "inactive"
        in fail(
            inventory.record_intake,
            actor=None,
            site_id=goods.shelter.id,
            effective_date=TODAY,
            source="anonymous",
            lines=[goods.line("SOAP", 1, "new")],
        ).message
    )
    assert (
        "closed"
        in fail(
            inventory.record_intake,
            actor=None,
            site_id=goods.warehouse.id,
            effective_date=TODAY,
            source="anonymous",
            lines=[goods.line("BLANKET", 1, "new")],
        ).message
    )


# --- distribution and shortages ----------------------------------------------------


def test_distribution_larger_than_stock_names_each_short_item(goods, stock_in):
    stock_in(goods.shelter, SOCKS_M=5, SOAP=2, BLANKET=9)
    error = fail(
        inventory.record_distribution,
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        recipient="Street outreach",
        lines=[goods.line("SOCKS-M", 12), goods.line("SOAP", 3), goods.line("BLANKET", 1)],
    )
    assert isinstance(error, inventory.InsufficientStock)
    assert [(s.item, s.site, s.asked, s.on_hand) for s in error.shortages] == [
        ("Socks (M)", "Harbor House", 12, 5),
        ("Soap", "Harbor House", 3, 2),
    ]
    assert "Socks (M) at Harbor House: asked for 12, there are 5" in error.message
    assert on_hand(goods.shelter, goods.items["BLANKET"]) == 9  # nothing moved


def test_distribution_of_what_is_there_goes_to_a_program_with_a_case_code(goods, stock_in):
    stock_in(goods.shelter, SOCKS_M=5)
    document = inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        recipient="  Street   outreach ",
        case_code="c-104",
        lines=[goods.line("SOCKS-M", 5)],
    )
    db.session.commit()
    assert on_hand(goods.shelter, goods.items["SOCKS-M"]) == 0
    assert (document.recipient, document.case_code) == ("Street outreach", "C-104")
    assert [e.quantity for e in document.entries] == [-5]


@pytest.mark.parametrize(
    "code",
    [
        "Maria",
        "Maria Lopez",
        "555-123-4567",
        "5551234567",
        "+1 555 123 4567",
        "maria@example.com",
        "1990-05-12",
        "05/12/1990",
        "C-1234567",
        "X" * 21,
        "C 104",
    ],
)
def test_case_codes_that_could_identify_a_person_are_refused(goods, stock_in, code):
    stock_in(goods.shelter, SOAP=1)
    error = fail(
        inventory.record_distribution,
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        recipient="Street outreach",
        case_code=code,
        lines=[goods.line("SOAP", 1)],
    )
    assert error.field == "case_code"
    assert "Never a name" in error.message


@pytest.mark.parametrize("code", ["C-104", "2026-17", "A7", "case-12b"])
def test_short_staff_codes_are_accepted(code):
    assert inventory.check_case_code(code) == code.upper()


@pytest.mark.parametrize(
    "recipient",
    ["", "Call Maria 555-123-4567", "maria@example.com", "Born 1990-05-12", "Maria Gonzalez"],
)
def test_recipient_must_be_a_program_not_a_person(goods, stock_in, recipient):
    stock_in(goods.shelter, SOAP=1)
    error = fail(
        inventory.record_distribution,
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        recipient=recipient,
        lines=[goods.line("SOAP", 1)],
    )
    # Free text names no program or partner record: refused (issue 11).
    assert error.field == "recipient_id"
    assert "from the list" in error.message


# --- transfer and adjustment -----------------------------------------------------


def test_transfer_moves_stock_between_two_sites_in_one_document(goods, stock_in):
    stock_in(goods.warehouse, BLANKET=10)
    document = inventory.record_transfer(
        actor=None,
        from_site_id=goods.warehouse.id,
        to_site_id=goods.shelter.id,
        effective_date=TODAY,
        lines=[goods.line("BLANKET", 4)],
    )
    db.session.commit()
    assert on_hand(goods.warehouse, goods.items["BLANKET"]) == 6
    assert on_hand(goods.shelter, goods.items["BLANKET"]) == 4
    assert sorted((e.site_id, e.quantity) for e in document.entries) == sorted(
        [(goods.warehouse.id, -4), (goods.shelter.id, 4)]
    )


def test_transfer_to_the_same_site_or_beyond_stock_is_refused(goods, stock_in):
    stock_in(goods.warehouse, BLANKET=3)
    same = fail(
        inventory.record_transfer,
        actor=None,
        from_site_id=goods.warehouse.id,
        to_site_id=goods.warehouse.id,
        effective_date=TODAY,
        lines=[goods.line("BLANKET", 1)],
    )
    assert same.field == "to_site_id"
    short = fail(
        inventory.record_transfer,
        actor=None,
        from_site_id=goods.warehouse.id,
        to_site_id=goods.shelter.id,
        effective_date=TODAY,
        lines=[goods.line("BLANKET", 4)],
    )
    assert "Blanket at Main warehouse: asked for 4, there are 3" in short.message
    assert on_hand(goods.shelter, goods.items["BLANKET"]) == 0


def test_adjustments_follow_their_reason(goods, stock_in):
    stock_in(goods.shelter, SOAP=10)
    for reason, expected in (("damaged", 8), ("found", 10), ("expired", 8), ("lost", 6)):
        inventory.record_adjustment(
            actor=None,
            site_id=goods.shelter.id,
            effective_date=TODAY,
            reason=reason,
            lines=[goods.line("SOAP", 2)],
        )
        db.session.commit()
        assert on_hand(goods.shelter, goods.items["SOAP"]) == expected
    assert (
        fail(
            inventory.record_adjustment,
            actor=None,
            site_id=goods.shelter.id,
            effective_date=TODAY,
            reason="other",
            direction="in",
            lines=[goods.line("SOAP", 1)],
        ).field
        == "note"
    )
    assert (
        fail(
            inventory.record_adjustment,
            actor=None,
            site_id=goods.shelter.id,
            effective_date=TODAY,
            reason="other",
            note="Miscounted at intake",
            lines=[goods.line("SOAP", 1)],
        ).field
        == "direction"
    )
    inventory.record_adjustment(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        reason="other",
        direction="out",
        note="Given to a sister shelter by phone arrangement",
        lines=[goods.line("SOAP", 1)],
    )
    db.session.commit()
    assert on_hand(goods.shelter, goods.items["SOAP"]) == 5
    assert fail(
        inventory.record_adjustment,
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        reason="stolen by elves",
        lines=[goods.line("SOAP", 1)],
    )


# --- counts ----------------------------------------------------------------------


def test_a_count_records_the_differences_and_shows_them_first(goods, stock_in):
    stock_in(goods.shelter, SOAP=10, SHAMPOO=4)
    soap, shampoo, socks = (goods.items[c] for c in ("SOAP", "SHAMPOO", "SOCKS-M"))
    preview = inventory.preview_count(
        site_id=goods.shelter.id, counts={soap.id: 7, shampoo.id: 4, socks.id: 2}
    )
    assert [(d.item, d.expected, d.counted, d.difference) for d in preview] == [
        ("Soap", 10, 7, -3),
        ("Shampoo", 4, 4, 0),
        ("Socks (M)", 0, 2, 2),
    ]
    assert counts() == (1, 2)  # the preview wrote nothing
    document = inventory.record_count(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        counts={soap.id: 7, shampoo.id: 4, socks.id: 2},
        expected={d.item_id: d.expected for d in preview},
    )
    db.session.commit()
    assert on_hand(goods.shelter, soap) == 7
    assert on_hand(goods.shelter, shampoo) == 4
    assert on_hand(goods.shelter, socks) == 2
    assert sorted((e.item_id, e.quantity, e.counted_quantity) for e in document.entries) == sorted(
        [(soap.id, -3, 7), (shampoo.id, 0, 4), (socks.id, 2, 2)]
    )
    assert inventory.verify_balances() == []


def test_a_count_is_refused_when_stock_moved_since_the_preview(goods, stock_in):
    stock_in(goods.shelter, SOAP=10)
    soap = goods.items["SOAP"]
    preview = inventory.preview_count(site_id=goods.shelter.id, counts={soap.id: 9})
    stock_in(goods.shelter, SOAP=1)
    error = fail(
        inventory.record_count,
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        counts={soap.id: 9},
        expected={d.item_id: d.expected for d in preview},
    )
    assert "Stock changed while you were counting (Soap)" in error.message


def test_a_count_of_an_inactive_item_or_a_negative_count_is_refused(goods):
    catalog.update_item(actor=None, item=goods.items["SOAP"], active=False)
    db.session.commit()
    assert (
        "inactive"
        in fail(
            inventory.record_count,
            actor=None,
            site_id=goods.shelter.id,
            effective_date=TODAY,
            counts={goods.items["SOAP"].id: 3},
        ).message
    )
    assert fail(
        inventory.record_count,
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        counts={goods.items["SHAMPOO"].id: -1},
    )


# --- kits ------------------------------------------------------------------------


def test_assembling_kits_moves_components_out_and_kits_in(goods, stock_in):
    stock_in(goods.shelter, TOOTHBRUSH=5, TOOTHPASTE=5, SOAP=5, SHAMPOO=5, SOCKS_M=3)
    kit = goods.items["KIT-HYG"]
    short = fail(
        inventory.assemble_kits,
        actor=None,
        site_id=goods.shelter.id,
        kit_item_id=kit.id,
        quantity=4,
        effective_date=TODAY,
    )
    assert [s.item for s in short.shortages] == ["Socks (M)"]
    inventory.assemble_kits(
        actor=None, site_id=goods.shelter.id, kit_item_id=kit.id, quantity=3, effective_date=TODAY
    )
    db.session.commit()
    assert on_hand(goods.shelter, kit) == 3
    assert on_hand(goods.shelter, goods.items["SOCKS-M"]) == 0
    assert on_hand(goods.shelter, goods.items["SOAP"]) == 2
    inventory.assemble_kits(
        actor=None,
        site_id=goods.shelter.id,
        kit_item_id=kit.id,
        quantity=1,
        effective_date=TODAY,
        disassemble=True,
    )
    db.session.commit()
    assert on_hand(goods.shelter, kit) == 2
    assert on_hand(goods.shelter, goods.items["SOCKS-M"]) == 1
    assert on_hand(goods.shelter, goods.items["SOAP"]) == 3
    assert inventory.verify_balances() == []
    assert (
        fail(
            inventory.assemble_kits,
            actor=None,
            site_id=goods.shelter.id,
            kit_item_id=goods.items["SOAP"].id,
            quantity=1,
            effective_date=TODAY,
        ).field
        == "kit_item_id"
    )


# --- reversal and append-only ----------------------------------------------------


def test_a_reversal_moves_every_line_back_and_points_at_the_original(goods, stock_in):
    stock_in(goods.warehouse, BLANKET=10)
    transfer = inventory.record_transfer(
        actor=None,
        from_site_id=goods.warehouse.id,
        to_site_id=goods.shelter.id,
        effective_date=TODAY,
        lines=[goods.line("BLANKET", 4)],
    )
    reversal = inventory.reverse_document(
        actor=None, document_id=transfer.id, note="Wrong site chosen"
    )
    db.session.commit()
    assert reversal.reverses_id == transfer.id
    assert inventory.reversal_of(transfer).id == reversal.id
    assert on_hand(goods.warehouse, goods.items["BLANKET"]) == 10
    assert on_hand(goods.shelter, goods.items["BLANKET"]) == 0
    assert (
        "already reversed"
        in fail(
            inventory.reverse_document, actor=None, document_id=transfer.id, note="again"
        ).message
    )
    assert (
        "cannot itself be reversed"
        in fail(
            inventory.reverse_document, actor=None, document_id=reversal.id, note="undo"
        ).message
    )
    assert fail(inventory.reverse_document, actor=None, document_id=transfer.id, note=" ")


def test_reversing_an_intake_whose_goods_are_gone_is_refused(goods, stock_in):
    stock_in(goods.shelter, SOAP=3)
    intake = db.session.scalar(select(StockDocument))
    inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        recipient="Street outreach",
        lines=[goods.line("SOAP", 2)],
    )
    db.session.commit()
    error = fail(inventory.reverse_document, actor=None, document_id=intake.id, note="oops")
    assert "Soap at Harbor House: asked for 3, there is 1" in error.message


def test_ledger_rows_cannot_be_edited_or_deleted(goods, stock_in):
    stock_in(goods.shelter, SOAP=3)
    entry = db.session.scalar(select(StockEntry))
    entry.quantity = 300
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    document = db.session.scalar(select(StockDocument))
    db.session.delete(document)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_verify_finds_a_balance_that_drifted_from_its_ledger(goods, stock_in):
    stock_in(goods.shelter, SOAP=3)
    assert inventory.verify_balances() == []
    db.session.execute(text("UPDATE stock_levels SET on_hand = 7"))
    db.session.commit()
    problems = inventory.verify_balances()
    assert [(p.item_id, p.recorded, p.from_ledger) for p in problems] == [
        (goods.items["SOAP"].id, 7, 3)
    ]


def test_stock_as_of_a_past_date_reads_the_ledger(goods):
    soap = goods.items["SOAP"]
    for days_ago, quantity in ((10, 8), (5, 4)):
        inventory.record_intake(
            actor=None,
            site_id=goods.shelter.id,
            effective_date=TODAY - timedelta(days=days_ago),
            source="anonymous",
            lines=[inventory.Line(soap.id, quantity, "new")],
        )
    inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY - timedelta(days=2),
        recipient="Street outreach",
        lines=[inventory.Line(soap.id, 5)],
    )
    db.session.commit()

    def at(days_ago):
        return [
            (i.code, q)
            for i, q in inventory.stock_as_of(
                site_id=goods.shelter.id, day=TODAY - timedelta(days=days_ago)
            )
        ]

    assert at(11) == []
    assert at(10) == [("SOAP", 8)]
    assert at(5) == [("SOAP", 12)]
    assert at(0) == [("SOAP", 7)]


# --- par levels, needs and low-stock mail ------------------------------------------


def test_one_low_stock_email_per_fall_under_par(goods, stock_in):
    stock_in(goods.shelter, SOAP=10, SHAMPOO=10)
    inventory.set_par_levels(
        actor=None,
        site_id=goods.shelter.id,
        levels={goods.items["SOAP"].id: 6, goods.items["SHAMPOO"].id: 6},
    )
    db.session.commit()

    def give(**quantities):
        inventory.record_distribution(
            actor=None,
            site_id=goods.shelter.id,
            effective_date=TODAY,
            recipient="Street outreach",
            lines=[goods.line(code, q) for code, q in quantities.items()],
        )
        db.session.commit()

    def low_mail():
        return list(
            db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "low_stock"))
        )

    give(SOAP=3)  # 7: still at or above par
    assert low_mail() == []
    give(SOAP=3, SHAMPOO=5)  # 4 and 5: both fall under par in one document
    [message] = low_mail()
    assert message.to_addr == "house@harborlight.test"
    assert "Soap: 4 bar on hand, par 6" in message.body_text
    assert "Shampoo" in message.body_text
    assert "12 Hidden Lane" not in message.body_text
    give(SOAP=1)  # further under par: no new email
    assert len(low_mail()) == 1
    stock_in(goods.shelter, SOAP=10)  # back above par, then under again: one more
    give(SOAP=10)
    assert len(low_mail()) == 2


def test_public_needs_name_no_site_and_follow_pins(goods, stock_in):
    stock_in(goods.shelter, SOAP=1, BLANKET=4, SHAMPOO=9)
    inventory.set_par_levels(
        actor=None,
        site_id=goods.shelter.id,
        levels={
            goods.items["SOAP"].id: 6,  # under half: urgent
            goods.items["BLANKET"].id: 6,  # under par: needed
            goods.items["SHAMPOO"].id: 6,  # at par: not needed
        },
    )
    catalog.update_item(actor=None, item=goods.items["SLEEPBAG"], needs_pinned=True)
    db.session.commit()
    needs = {n.label: n for n in inventory.public_needs()}
    assert set(needs) == {"Soap", "Blanket", "Sleeping bag"}
    assert needs["Soap"].urgent
    assert not needs["Blanket"].urgent
    assert needs["Sleeping bag"].pinned
    catalog.update_item(actor=None, item=goods.items["SOAP"], needs_hidden=True)
    db.session.commit()
    assert "Soap" not in {n.label for n in inventory.public_needs()}


def test_top_distributed_nets_out_reversed_distributions(goods, stock_in):
    stock_in(goods.shelter, SOAP=20, BLANKET=20)
    for code, quantity in (("SOAP", 5), ("BLANKET", 8)):
        inventory.record_distribution(
            actor=None,
            site_id=goods.shelter.id,
            effective_date=TODAY,
            recipient="Street outreach",
            lines=[goods.line(code, quantity)],
        )
    mistake = db.session.scalars(select(StockDocument).order_by(StockDocument.id.desc())).first()
    inventory.reverse_document(actor=None, document_id=mistake.id, note="entered twice")
    db.session.commit()
    assert [(i.code, n) for i, n in inventory.top_distributed()] == [("SOAP", 5)]


# --- pages -----------------------------------------------------------------------


def test_stock_page_shows_each_site_with_par_and_under_par(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=2)
    stock_in(goods.warehouse, SOAP=30)
    inventory.set_par_levels(
        actor=None, site_id=goods.shelter.id, levels={goods.items["SOAP"].id: 6}
    )
    db.session.commit()
    page = staff_client.get("/inventory/").get_data(as_text=True)
    assert "Soap" in page
    assert "Harbor House" in page and "Main warehouse" in page
    assert "under-par" in page
    assert ">32<" in page  # all sites
    only_under = staff_client.get("/inventory/?show=under").get_data(as_text=True)
    assert "Soap</a>" in only_under and "Blanket</a>" not in only_under
    scanned = staff_client.get("/inventory/?q=soap&scan=1")
    assert scanned.status_code == 302
    assert scanned.headers["Location"].endswith(f"/inventory/items/{goods.items['SOAP'].id}")


def test_stock_page_with_no_stock_says_what_to_do(staff_client, goods):
    page = staff_client.get("/inventory/").get_data(as_text=True)
    assert "Nothing is on the shelves yet" in page


def test_item_page_shows_running_balance_per_site(treasurer_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    stock_in(goods.shelter, SOAP=3)
    page = treasurer_client.get(f"/inventory/items/{goods.items['SOAP'].id}").get_data(as_text=True)
    assert "+5" in page and "+3" in page
    assert ">8</td>" in page
    assert treasurer_client.get("/inventory/items/999999").status_code == 404


def test_as_of_page(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    url = f"/inventory/as-of?site={goods.shelter.id}&day={TODAY.isoformat()}"
    page = staff_client.get(url).get_data(as_text=True)
    assert "Soap" in page and ">5 " in page
    future = (TODAY + timedelta(days=3)).isoformat()
    page = staff_client.get(f"/inventory/as-of?site={goods.shelter.id}&day={future}")
    assert "today or an earlier day" in page.get_data(as_text=True)
    assert staff_client.get("/inventory/as-of?site=abc&day=nonsense").status_code == 200


def test_ledger_and_document_pages(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    inventory.record_distribution(
        actor=None,
        site_id=goods.shelter.id,
        effective_date=TODAY,
        recipient="Legal advocacy partner",
        case_code="C-7",
        lines=[goods.line("SOAP", 2)],
    )
    db.session.commit()
    ledger = staff_client.get("/inventory/documents").get_data(as_text=True)
    assert "Legal advocacy partner" in ledger and "case C-7" in ledger
    filtered = staff_client.get("/inventory/documents?kind=intake").get_data(as_text=True)
    assert "Legal advocacy partner" not in filtered
    document = db.session.scalar(select(StockDocument).order_by(StockDocument.id.desc()))
    page = staff_client.get(f"/inventory/documents/{document.id}").get_data(as_text=True)
    assert document.number in page and "-2" in page and "Reverse" in page
    assert staff_client.get("/inventory/documents?date_from=2026-02-01&date_to=2026-01-01")


def test_reversing_from_the_document_page(staff_client, goods, stock_in):
    stock_in(goods.shelter, SOAP=5)
    intake = db.session.scalar(select(StockDocument))
    url = f"/inventory/documents/{intake.id}/reverse"
    refused = staff_client.post(url, data={"note": ""})
    assert refused.status_code == 400
    assert "Say why" in refused.get_data(as_text=True)
    assert counts() == (1, 1)
    done = staff_client.post(url, data={"note": "Counted twice"})
    assert done.status_code == 302
    assert on_hand(goods.shelter, goods.items["SOAP"]) == 0
    again = staff_client.post(url, data={"note": "Again"})
    assert again.status_code == 400
    assert "already reversed" in again.get_data(as_text=True)
    page = staff_client.get(f"/inventory/documents/{intake.id}").get_data(as_text=True)
    assert "was reversed by" in page


def test_donor_page_lists_goods_given_with_the_estimate(treasurer_client, goods, create_donor):
    donor = create_donor("Ada Giver")
    document = inventory.record_intake(
        actor=None,
        site_id=goods.warehouse.id,
        effective_date=TODAY,
        source="donor",
        donor_id=donor.id,
        donor_value_cents=4_000,
        lines=[goods.line("COAT-A-M", 2, "good_used")],
    )
    db.session.commit()
    page = treasurer_client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert document.number in page
    assert "2 \u00d7 Coat, adult (M) (used)" in page
    assert "$40.00" in page
