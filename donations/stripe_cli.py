"""``flask stripe replay``: process failed or parked Stripe events again."""

from __future__ import annotations

from collections import Counter

import click
from flask import Flask
from flask.cli import AppGroup

from donations.extensions import db
from donations.models import StripeEventStatus
from donations.orgs_cli import per_organization
from donations.services import payments, stripe_replay

stripe_cli = AppGroup("stripe", help="Stripe webhook events.")


@stripe_cli.command("replay")
@per_organization
@click.option(
    "--event",
    "event_ids",
    type=int,
    multiple=True,
    metavar="ROW_ID",
    help="Only this stored event (its row id on the Stripe events page); may be repeated.",
)
def replay_command(event_ids: tuple[int, ...]) -> None:
    """Process failed or parked Stripe events again and print what became of them."""
    rows = stripe_replay.replay_events(
        gateway=payments.get_gateway(), event_ids=list(event_ids) if event_ids else None
    )
    db.session.commit()
    if not rows:
        click.echo("No failed or parked events to process.")
        return
    counts = Counter(row.status for row in rows)
    summary = ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))
    click.echo(f"Processed {len(rows)} event{'' if len(rows) == 1 else 's'} again: {summary}.")
    for row in rows:
        if row.status == StripeEventStatus.FAILED:
            click.echo(f"  still failed: #{row.id} {row.type} {row.event_id}: {row.last_error}")


def register(app: Flask) -> None:
    app.cli.add_command(stripe_cli)
