"""Flask commands for backups: ``flask backup`` and ``flask restore FILE``."""

from __future__ import annotations

import click
from flask import Flask, current_app

from donations.services import backup
from donations.services.errors import DomainError


@click.command("backup")
@click.option("--folder", default=None, help="Where to write it (default: BACKUP_DIR).")
@click.option("--keep", type=int, default=None, help="Backups to keep (default: BACKUP_KEEP).")
def backup_command(folder: str | None, keep: int | None) -> None:
    """Write a consistent copy of the database and delete the oldest beyond --keep."""
    folder = folder or backup.backup_folder(current_app)
    keep = keep if keep is not None else int(current_app.config["BACKUP_KEEP"])
    try:
        made = backup.take_backup(folder, keep=keep)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Backup written: {made.path} ({made.size:,} bytes); keeping the newest {keep}.")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def restore_command(file: str) -> None:
    """Restore FILE into the configured database, which must be empty, then check it."""
    try:
        report = backup.restore_backup(file)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Restored {report.tables} tables from {file}.")
    if report.balance_problems:
        click.echo(
            f"Inventory: {len(report.balance_problems)} stock balance(s) differ from the ledger "
            "(run `flask inventory verify` for the list).",
            err=True,
        )
    else:
        click.echo("Inventory: every stock balance matches the ledger.")
    if report.chain.ok:
        click.echo(f"Audit chain: intact ({report.chain.event_count:,} events).")
    else:
        click.echo(f"Audit chain: BROKEN. {report.chain.problem}", err=True)
    if not report.ok:
        raise SystemExit(1)


def register(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
