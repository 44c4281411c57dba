"""Flask commands for the summaries: ``flask reports verify`` and ``flask reports rebuild``."""

from __future__ import annotations

from collections.abc import Sequence

import click
from flask import Flask
from flask.cli import AppGroup

from donations.extensions import db
from donations.services import summaries

reports_cli = AppGroup("reports", help="The totals the reports and the dashboard read.")


def echo_summary_problems(problems: Sequence[summaries.SummaryProblem]) -> None:
    """Print each summary row that differs from its rows, on standard error."""
    if not problems:
        return
    click.echo(
        f"{len(problems):,} summary row{'' if len(problems) == 1 else 's'} "
        f"differ{'s' if len(problems) == 1 else ''} from the rows they sum:",
        err=True,
    )
    for p in problems:
        key = ", ".join(str(part) for part in p.key)
        click.echo(
            f"  {p.table} ({key}): recorded {p.recorded}, from the rows {p.from_rows}", err=True
        )


@reports_cli.command("verify")
def verify_command() -> None:
    """Recompute every gift and donor summary from the gifts and report any that differ."""
    problems = summaries.verify_money()
    if problems:
        echo_summary_problems(problems)
        raise SystemExit(1)
    click.echo("Every gift and donor summary matches the gifts.")


@reports_cli.command("rebuild")
def rebuild_command() -> None:
    """Refill every summary table (gifts, donors, retention, stock) from the rows."""
    summaries.rebuild_all()
    db.session.commit()
    click.echo("Every summary was rebuilt from the gifts and the ledger.")


def register(app: Flask) -> None:
    app.cli.add_command(reports_cli)
