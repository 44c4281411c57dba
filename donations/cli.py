"""Flask commands: ``flask users ...``, ``flask demo load``, ``flask mail work``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from donations import (
    audit_cli,
    backup_cli,
    inventory_cli,
    jobs_cli,
    orgs_cli,
    privacy_cli,
    receipts_cli,
    reports_cli,
    secrets_cli,
    stripe_cli,
)
from donations.extensions import db
from donations.jobs import mail_worker
from donations.jobs.mail_worker import deliver_due
from donations.models import ORGANIZATION_ROLES, Role, User
from donations.orgs_cli import per_organization
from donations.services import accounts
from donations.services.errors import DomainError

users_cli = AppGroup("users", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="Demo data for trying the app.")
mail_cli = AppGroup("mail", help="The outgoing mail queue.")


def _fail(error: DomainError) -> None:
    db.session.rollback()
    raise click.ClickException(error.message)


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in ORGANIZATION_ROLES]),  # partners: the agency's page
    default=Role.STAFF.value,
    show_default=True,
)
@click.option("--name", default=None, help="Display name (default: the part before @).")
@click.password_option(prompt="Password", help="Prompted for when not given.")
@per_organization
def create_user_command(email: str, role: str, name: str | None, password: str) -> None:
    """Make EMAIL one of an organisation's people (a new account signs in with PASSWORD;
    an existing one keeps its own)."""
    try:
        user = accounts.create_user(
            actor=None,
            email=email,
            name=name or email.split("@", 1)[0],
            role=role,
            password=password,
        )
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role}).")


@users_cli.command("coalition-admin")
@click.argument("email")
@click.option("--name", default=None, help="Display name for a new account.")
@click.option("--revoke", is_flag=True, help="No longer a coalition admin.")
@click.option("--password", default=None, help="For a new account; prompted for when needed.")
def coalition_admin_command(
    email: str, name: str | None, revoke: bool, password: str | None
) -> None:
    """Make EMAIL a coalition admin (a new account if none has it), or --revoke it."""
    user = accounts.find_user_by_email(email)
    try:
        if user is None:
            if revoke:
                raise click.ClickException(f"No user has the email {email}.")
            if password is None:
                password = click.prompt(
                    "Password", hide_input=True, confirmation_prompt=True, err=True
                )
            user = accounts.create_coalition_admin(
                actor=None,
                email=email,
                name=name or email.split("@", 1)[0],
                password=password,
            )
        else:
            accounts.set_coalition_admin(actor=None, user=user, coalition_admin=not revoke)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{user.email} is {'no longer ' if revoke else ''}a coalition admin.")


@users_cli.command("set-password")
@click.argument("email")
@click.password_option(prompt="New password")
def set_password_command(email: str, password: str) -> None:
    """Set the password of the user with EMAIL."""
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user has the email {email}.")
    try:
        accounts.set_password_by_admin(actor=None, user=user, new_password=password)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Password set for {user.email}; their other sessions are signed out.")


@users_cli.command("list")
@per_organization
def list_users_command() -> None:
    """List an organisation's people with their role and status."""
    for user in accounts.list_users():
        member = user.membership
        state = "active" if member is not None and member.active else "inactive"
        role = member.role if member is not None else ""
        click.echo(f"{user.email:40} {role:10} {state}")


@demo_cli.command("load")
def load_demo_command() -> None:
    """Load demo users, donors, gifts, goods and the organisation profile, once."""
    from donations.demo import (  # noqa: PLC0415 -- the demo story is loaded only by this command
        DEMO_COALITION_ADMIN,
        DEMO_MEMBER,
        DEMO_MEMBER_SLUG,
        DEMO_MEMBER_USERS,
        DEMO_PARTNER,
        DEMO_PARTNER_AGENCY,
        DEMO_SHARED_STAFF,
        DEMO_USERS,
        load_demo,
    )

    if db.session.scalar(select(func.count(User.id))):
        click.echo("Demo data not loaded: the database already has users.")
        return
    load_demo()
    db.session.commit()
    deliver_due(app=current_app._get_current_object())  # the demo's thank-you notes
    click.echo("Demo data loaded. Sign in with one of:")
    for email, _name, role, password in DEMO_USERS:
        click.echo(f"  {role:10} {email:28} password: {password}")
    email, _name, role, password = DEMO_PARTNER
    click.echo(f"  {role:10} {email:28} password: {password}  ({DEMO_PARTNER_AGENCY})")
    member = DEMO_MEMBER["legal_name"]
    click.echo(
        f"A second member shelter, {member}, has its pages at /o/{DEMO_MEMBER_SLUG}/ "
        "(sign in there or at the root); its people:"
    )
    for email, _name, role, password in DEMO_MEMBER_USERS:
        click.echo(f"  {role:10} {email:28} password: {password}")
    click.echo(f"  ({DEMO_SHARED_STAFF} is staff at both shelters and switches between them.)")
    email, _name, password = DEMO_COALITION_ADMIN
    click.echo("The coalition's admin (member pages, report; no member's records):")
    click.echo(f"  {'coalition':10} {email:28} password: {password}")
    click.echo("The coalition's needs board is /coalition/needs.")


@mail_cli.command("work")
@click.option("--once", is_flag=True, help="Send what is due now, then stop.")
@click.option("--interval", default=15.0, show_default=True, help="Seconds between polls.")
def mail_work_command(once: bool, interval: float) -> None:
    """Send queued mail and retry failures; several may run at once."""
    mail_worker.work(
        current_app._get_current_object(),
        once=once,
        interval=interval,
        report_to=lambda report: click.echo(
            f"sent {report.sent}, will retry {report.retrying}, failed {report.failed}"
        ),
    )


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(mail_cli)
    stripe_cli.register(app)
    inventory_cli.register(app)
    reports_cli.register(app)
    receipts_cli.register(app)
    audit_cli.register(app)
    privacy_cli.register(app)
    jobs_cli.register(app)
    backup_cli.register(app)
    orgs_cli.register(app)
    secrets_cli.register(app)
