"""Flask commands for the privacy of the people served: ``flask privacy scan`` and ``redact``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from donations.extensions import db
from donations.orgs_cli import per_organization
from donations.services import privacy
from donations.services.errors import DomainError

privacy_cli = AppGroup("privacy", help="Find and redact stored names and contact details.")


@privacy_cli.command("scan")
@per_organization
def scan_command() -> None:
    """List stored notes, case codes, recipient names, goods requests' texts and professional
    services' texts the note screen would refuse today."""
    findings = privacy.scan_stored_text()
    for f in findings:
        click.echo(f"{f.kind:13} {f.id:>8}  {f.label:24} {f.field:14} {', '.join(f.reasons)}")
    if not findings:
        click.echo("Nothing stored looks like a name or contact details of a person served.")
        return
    click.echo(
        f"{len(findings)} finding{'' if len(findings) == 1 else 's'}. "
        "Redact one with: flask privacy redact KIND ID"
    )


@privacy_cli.command("redact")
@per_organization
@click.argument("kind", type=click.Choice(privacy.KINDS))
@click.argument("object_id", type=int)
def redact_command(kind: str, object_id: int) -> None:
    """Replace the note of KIND (document, pledge, recipient, goods_request or service) ID
    with "[redacted]"."""
    try:
        what = privacy.redact(actor=None, kind=kind, object_id=object_id)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Redacted the {what}; the audit log records that it happened.")


def register(app: Flask) -> None:
    app.cli.add_command(privacy_cli)
