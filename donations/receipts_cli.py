"""Flask commands for receipts: ``flask receipts year-end 2026 [--basis B] [--workers N]``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from donations.extensions import db
from donations.jobs import mail_worker, year_end_run
from donations.models import YEARLY_BASES, StatementBasis
from donations.orgs_cli import per_organization
from donations.services import year_end
from donations.services.errors import DomainError

receipts_cli = AppGroup("receipts", help="Receipts and year-end statements.")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@receipts_cli.command("year-end")
@per_organization
@click.argument("tax_year", type=int)
@click.option(
    "--basis",
    type=click.Choice([b.value for b in YEARLY_BASES], case_sensitive=False),
    default=None,
    help="The year the statements cover: the organisation's fiscal year, named by the "
    "calendar year it ends in (the default), or the calendar year, January to December.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, year_end_run.MAX_WORKERS),
    default=2,
    show_default=True,
    help="Processes rendering the PDFs (1: render in this process).",
)
@click.option("--run-id", type=int, default=None, hidden=True, help="Carry on a started run.")
def year_end_command(tax_year: int, basis: str | None, workers: int, run_id: int | None) -> None:
    """Issue and email the year-end statement of every donor who gave in TAX_YEAR.

    Donors who already have a statement for the period are skipped, so running
    it again after an interruption carries on where it stopped. A year not over
    yet is run as asked (the screen asks for a confirmation first).
    """
    try:
        if run_id is None:
            run = year_end.start_run(
                actor=None,
                tax_year=tax_year,
                basis=basis or StatementBasis.FISCAL,
                open_confirmed=True,  # naming the year on the command line is explicit
            )
            db.session.commit()
        else:  # started by the treasurer's screen, which then runs this in the background
            run = year_end.get_run(run_id)
            if run.tax_year != tax_year:
                raise click.UsageError(f"Run #{run.id} is for {run.tax_year}, not {tax_year}.")
            if basis is not None and run.basis != basis.lower():
                raise click.UsageError(f"Run #{run.id} is on the {run.basis} basis, not {basis}.")
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    label = year_end.run_label(run)
    click.echo(f"Year-end statements for {label}: run #{run.id}, {_plural(workers, 'worker')}.")

    bar = click.progressbar(length=max(run.donors_total, 1), label="Donors", show_pos=True)
    shown = 0

    def progress(p: year_end_run.Progress) -> None:
        nonlocal shown
        bar.length = max(p.donors_total, 1)
        if p.donors_done > shown:
            bar.update(p.donors_done - shown)
            shown = p.donors_done

    try:
        with bar:
            result = year_end_run.run_year_end(run.id, workers=workers, progress=progress)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None

    click.echo(f"Statements issued: {result.issued:,}")
    click.echo(f"Emails queued:     {result.emailed:,}")
    click.echo(f"For post:          {result.for_post:,}")
    click.echo(f"Already done:      {result.skipped:,} (skipped)")
    if result.nothing_to_state:
        click.echo(f"Nothing to state:  {result.nothing_to_state:,} (gifts refunded or reversed)")
    for problem in result.problems:
        click.echo(f"Not issued: {problem}", err=True)
    if result.stopped:
        click.echo("Stopped. Run it again to continue: donors already done are skipped.", err=True)
        raise SystemExit(130)
    if result.emailed:
        sent = mail_worker.drain(current_app._get_current_object(), limit=200)
        click.echo(f"Sent {sent:,} now; anything left is retried by `flask mail work`.")


def register(app: Flask) -> None:
    app.cli.add_command(receipts_cli)
