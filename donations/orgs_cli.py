"""Flask commands for the organisations of a deployment: ``flask orgs create``,
``flask orgs archive`` and ``flask orgs list``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import Flask
from flask.cli import AppGroup

from donations.extensions import db
from donations.services import organizations
from donations.services.errors import DomainError
from donations.tenancy import use_organization

orgs_cli = AppGroup("orgs", help="The organisations hosted on this deployment.")

F = TypeVar("F", bound=Callable[..., Any])


def per_organization(command: F) -> F:
    """Give a command ``--org SLUG``: it then runs as that open organisation (the first
    without), like a request at its address."""

    @functools.wraps(command)
    def run_as(*args: Any, org_slug: str | None = None, **kwargs: Any) -> Any:
        if org_slug is None:
            return command(*args, **kwargs)
        org = organizations.find_organization(org_slug)
        if org is None or org.archived_at is not None:
            raise click.ClickException(f"No open organisation has the slug {org_slug!r}.")
        with use_organization(org.id):
            return command(*args, **kwargs)

    return click.option(  # type: ignore[return-value]
        "--org",
        "org_slug",
        default=None,
        metavar="SLUG",
        help="Run as this organisation (default: the first).",
    )(run_as)


@orgs_cli.command("create")
@click.argument("slug")
@click.option("--name", "legal_name", required=True, help="The organisation's legal name.")
@click.option("--currency", default="USD", show_default=True, help="Default currency.")
@click.option("--fiscal-year-start", type=int, default=1, show_default=True, help="Month, 1 to 12.")
def create_command(slug: str, legal_name: str, currency: str, fiscal_year_start: int) -> None:
    """Add an organisation whose pages live under /o/SLUG/."""
    try:
        org = organizations.create_organization(
            actor=None,
            slug=slug,
            legal_name=legal_name,
            default_currency=currency,
            fiscal_year_start_month=fiscal_year_start,
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"{org.slug}\t{org.legal_name}\t(id {org.id})")


@orgs_cli.command("archive")
@click.argument("slug")
def archive_command(slug: str) -> None:
    """Close the organisation SLUG's pages and sign-ins, keeping its records."""
    try:
        org = organizations.archive_organization(actor=None, slug=slug)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"{org.slug}\t{org.legal_name}\tarchived")


@orgs_cli.command("list")
def list_command() -> None:
    """Print one organisation a line, its slug first."""
    for line in organizations.list_organizations():
        notes = []
        if line.is_home:
            notes.append("first: keeps the root paths")
        if line.archived_at is not None:
            notes.append("archived")
        tail = f"\t({'; '.join(notes)})" if notes else ""
        click.echo(f"{line.slug}\t{line.legal_name}{tail}")


def register(app: Flask) -> None:
    app.cli.add_command(orgs_cli)
