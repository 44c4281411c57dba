"""``flask secrets rotate``: re-encrypt every stored secret with the newest DATA_KEYS key."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from donations.extensions import db
from donations.services import organization_secrets
from donations.services.errors import DomainError

secrets_cli = AppGroup("secrets", help="Secrets stored encrypted (organisations' Stripe keys).")


@secrets_cli.command("rotate")
def rotate_command() -> None:
    """Re-encrypt every stored secret with the first key of DATA_KEYS; safe to run again."""
    try:
        rotation = organization_secrets.rotate_secrets()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    plural = "" if rotation.rotated == 1 else "s"
    click.echo(
        f"Re-encrypted {rotation.rotated} secret{plural} with the newest key; "
        f"{rotation.current} already used it."
    )


def register(app: Flask) -> None:
    app.cli.add_command(secrets_cli)
