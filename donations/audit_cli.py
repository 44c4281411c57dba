"""Flask command for the audit trail: ``flask audit verify``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from donations.extensions import db
from donations.services import audit

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute the audit log's hash chain; exit 1 naming the first bad event."""
    verification = audit.verify_chain(actor=None)
    db.session.commit()
    count = verification.event_count
    if verification.ok:
        click.echo(f"Chain verified: {count:,} event{'' if count == 1 else 's'} intact.")
        return
    click.echo(f"Chain broken at event #{verification.first_bad_id}.", err=True)
    click.echo(f"  {verification.problem}", err=True)
    click.echo(
        f"  {count:,} event{'' if count == 1 else 's'} before it verified.",
        err=True,
    )
    raise SystemExit(1)


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
