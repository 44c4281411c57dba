"""The goods commands: ``flask inventory verify`` and ``flask inventory seed``."""

from __future__ import annotations

from sqlalchemy import func, select, text

from donations.extensions import db
from donations.models import Item, ItemCategory, KitComponent


def test_verify_passes_on_consistent_data(app, goods, stock_in):
    stock_in(goods.shelter, SOCKS_M=3, SOAP=5)
    stock_in(goods.warehouse, SOAP=2)
    result = app.test_cli_runner().invoke(args=["inventory", "verify"])
    assert result.exit_code == 0, result.output
    assert "All 3 balances match the ledger." in result.output


def test_verify_passes_on_an_empty_ledger(app):
    result = app.test_cli_runner().invoke(args=["inventory", "verify"])
    assert result.exit_code == 0, result.output
    assert "All 0 balances match the ledger." in result.output


def test_verify_names_each_difference_and_fails(app, goods, stock_in):
    stock_in(goods.shelter, SOCKS_M=3, SOAP=5)
    socks = goods.items["SOCKS-M"]
    # A balance changed behind the ledger's back.
    db.session.execute(
        text("UPDATE stock_levels SET on_hand = 7 WHERE site_id = :site AND item_id = :item"),
        {"site": goods.shelter.id, "item": socks.id},
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["inventory", "verify"])
    assert result.exit_code != 0
    assert "1 balance differs from the ledger" in result.output
    assert "Harbor House, SOCKS-M: recorded 7, from the ledger 3" in result.output
    assert "SOAP" not in result.output


def test_verify_finds_ledger_entries_without_a_balance_row(app, goods, stock_in):
    stock_in(goods.warehouse, SOAP=4)
    db.session.execute(text("DELETE FROM stock_levels"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["inventory", "verify"])
    assert result.exit_code == 1
    assert "Main warehouse, SOAP: recorded 0, from the ledger 4" in result.output


def test_seed_is_idempotent(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["inventory", "seed"])
    assert result.exit_code == 0, result.output
    items = db.session.scalar(select(func.count()).select_from(Item))
    categories = db.session.scalar(select(func.count()).select_from(ItemCategory))
    assert items > 30
    assert f"Added {items} items in {categories} categories" in result.output
    kit_parts = db.session.scalar(select(func.count()).select_from(KitComponent))

    again = runner.invoke(args=["inventory", "seed"])
    assert again.exit_code == 0, again.output
    assert f"The catalog already has {items} items; nothing was added." in again.output
    assert db.session.scalar(select(func.count()).select_from(Item)) == items
    assert db.session.scalar(select(func.count()).select_from(ItemCategory)) == categories
    assert db.session.scalar(select(func.count()).select_from(KitComponent)) == kit_parts
