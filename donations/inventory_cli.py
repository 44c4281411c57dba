"""Flask commands for goods: ``flask inventory verify`` and ``flask inventory seed``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Item, ItemCategory, Site, StockLevel
from donations.orgs_cli import per_organization
from donations.reports_cli import echo_summary_problems
from donations.services import catalog, inventory, summaries

inventory_cli = AppGroup("inventory", help="The goods ledger and catalog.")


@inventory_cli.command("verify")
def verify_command() -> None:
    """Recompute every stock balance and stock summary from the ledger; report any that differ."""
    problems = inventory.verify_balances()
    summary_problems = summaries.verify_stock()
    echo_summary_problems(summary_problems)
    if not problems:
        count = db.session.scalar(select(func.count()).select_from(StockLevel)) or 0
        click.echo(f"All {count:,} balance{'' if count == 1 else 's'} match the ledger.")
        if summary_problems:
            raise SystemExit(1)
        click.echo("Every stock summary matches the ledger.")
        return
    sites = dict(db.session.execute(select(Site.id, Site.name)).all())
    codes = dict(
        db.session.execute(
            select(Item.id, Item.code).where(Item.id.in_({p.item_id for p in problems}))
        ).all()
    )
    click.echo(
        f"{len(problems):,} balance{'' if len(problems) == 1 else 's'} "
        f"differ{'s' if len(problems) == 1 else ''} from the ledger:",
        err=True,
    )
    for p in problems:
        site = sites.get(p.site_id, f"site #{p.site_id}")
        code = codes.get(p.item_id, f"item #{p.item_id}")
        click.echo(
            f"  {site}, {code}: recorded {p.recorded:,}, from the ledger {p.from_ledger:,}",
            err=True,
        )
    raise SystemExit(1)


@inventory_cli.command("seed")
@per_organization
def seed_command() -> None:
    """Add the standard categories and items if the catalog is empty."""
    added = catalog.seed_catalog()
    db.session.commit()
    if added:
        categories = db.session.scalar(select(func.count()).select_from(ItemCategory))
        click.echo(f"Added {added} items in {categories} categories, with the hygiene kit.")
    else:
        items = db.session.scalar(select(func.count()).select_from(Item))
        click.echo(f"The catalog already has {items} items; nothing was added.")


def register(app: Flask) -> None:
    app.cli.add_command(inventory_cli)
