"""The coalition admin's work: adding member organisations, inviting their admins, and
the coalition report.

A coalition admin sees organisations (names, slugs, how many people each has) and
aggregate figures, never a member's donors, gifts or goods documents: every figure here
is read *as that member* (``use_organization``) by the same functions as its own report,
so the coalition report agrees with each member's books.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from donations.extensions import db
from donations.models import Membership, Organization, Role, User, utcnow
from donations.pdf.report_content import MoneyRow
from donations.services import accounts, reports
from donations.services.audit import record_audit
from donations.services.errors import DuplicateEmail, InvalidInput, NotFound
from donations.services.gifts.listing import GiftFilters
from donations.services.links import absolute_url
from donations.services.mail import queue_mail
from donations.services.org_slugs import free_slug
from donations.services.organizations import create_organization, find_organization
from donations.tenancy import use_organization

NAME_MAX = User.__table__.c.name.type.length


@dataclass(frozen=True)
class MemberLine:
    """One organisation on the coalition's members page."""

    id: int
    slug: str
    legal_name: str
    archived_at: datetime | None
    shares_figures: bool
    admins: int
    people: int


def members_overview() -> list[MemberLine]:
    """Every organisation with how many active admins and people it has (no names)."""
    people = (
        select(
            Membership.organization_id,
            func.count(Membership.id).label("people"),
            func.count(Membership.id).filter(Membership.role == Role.ADMIN).label("admins"),
        )
        .where(Membership.active.is_(True))
        .group_by(Membership.organization_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Organization.id,
            Organization.slug,
            Organization.legal_name,
            Organization.archived_at,
            Organization.shares_figures,
            func.coalesce(people.c.admins, 0),
            func.coalesce(people.c.people, 0),
        )
        .outerjoin(people, people.c.organization_id == Organization.id)
        .order_by(Organization.id)
    )
    return [MemberLine(*row) for row in rows]


def _check_person(email: str, name: str) -> tuple[str, str]:
    email = accounts.normalize_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise InvalidInput("Enter the admin's email address.", field="admin_email")
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Enter the admin's name.", field="admin_name")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"Keep the name to {NAME_MAX} characters.", field="admin_name")
    return email, name


def invite_admin(*, actor: User | None, organization_id: int, email: str, name: str) -> User:
    """Make someone an admin of the organisation and mail them how to sign in.

    A new address gets an account without a usable password and a link to choose one;
    someone who already has an account (in another organisation) keeps their password.
    Refused, with the data left as it was, for someone already among its people.
    """
    email, name = _check_person(email, name)
    organization = db.session.get(Organization, organization_id)
    if organization is None or organization.archived_at is not None:
        raise NotFound("No such open organisation.")
    with use_organization(organization_id):
        existing = accounts.find_user_by_email(email)
        if existing is not None and any(
            m.organization_id == organization_id for m in existing.memberships
        ):
            raise DuplicateEmail(
                f"{email} is already one of {organization.legal_name}'s people.",
                field="admin_email",
            )
        user = accounts.create_user(
            actor=actor,
            email=email,
            name=name,
            role=Role.ADMIN,
            password=secrets.token_urlsafe(24),  # never told: they choose their own
        )
        if existing is None:
            # Nobody knows the password made above: the link below is how they start.
            user.password_hash = generate_password_hash(
                secrets.token_urlsafe(32),
                method=current_app.config["PASSWORD_HASH_METHOD"],
            )
            user.password_changed_at = utcnow()
            db.session.flush()
            link = absolute_url(
                "auth.reset_password", token=accounts.make_password_reset_token(user)
            )
            minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
            how = (
                f"Choose your password within {minutes} minutes with this link:\n\n{link}\n\n"
                'If it has expired, use "Forgot your password?" on the sign-in page.\n'
            )
        else:
            how = f"Sign in with the password you already use:\n\n{absolute_url('auth.login')}\n"
        queue_mail(
            kind="invitation",
            to=email,
            subject=f"You are an admin of {organization.legal_name}",
            body_text=(
                f"Hello {name},\n\n"
                f"You have been made an admin of {organization.legal_name} on the "
                "coalition's donations system.\n\n" + how
            ),
            sensitive=existing is None,
        )
    return user


def create_member(
    *,
    actor: User | None,
    legal_name: str,
    slug: str,
    default_currency: str,
    admin_email: str,
    admin_name: str,
) -> Organization:
    """Add a member organisation and invite its first admin, in one unit of work."""
    _check_person(admin_email, admin_name)  # before anything is written
    organization = create_organization(
        actor=actor,
        slug=slug.strip() or free_slug(legal_name),
        legal_name=legal_name,
        default_currency=default_currency or "USD",
    )
    invite_admin(actor=actor, organization_id=organization.id, email=admin_email, name=admin_name)
    return organization


def member_by_slug(slug: str) -> Organization:
    organization = find_organization(slug)
    if organization is None:
        raise NotFound("No such organisation.")
    return organization


def set_shares_figures(*, actor: User | None, organization: Organization, share: bool) -> None:
    """An organisation's own choice: show its gift counts and totals to the coalition."""
    if organization.shares_figures == share:
        return
    organization.shares_figures = share
    db.session.flush()
    record_audit(
        actor=actor,
        action="organization.share_figures",
        object_type="organization",
        object_id=organization.id,
        summary="gift figures shared with the coalition" if share else "gift figures private",
    )


# --- the coalition report ---------------------------------------------------------


@dataclass(frozen=True)
class MemberFigures:
    """One member's line in the coalition report."""

    name: str
    goods_received: int
    goods_distributed: int
    shares_figures: bool
    gifts: tuple[MoneyRow, ...]  # one per currency; empty when not shared or none


@dataclass(frozen=True)
class CoalitionReport:
    date_from: date
    date_to: date
    members: tuple[MemberFigures, ...]
    goods_received: int
    goods_distributed: int
    gift_totals: tuple[MoneyRow, ...]  # over the members who share, per currency


def coalition_report(*, date_from: date, date_to: date) -> CoalitionReport:
    """Goods in and out per open member, and gift counts and totals for those who share.

    Each member's figures are its own report's (``reports.goods_rows``, ``total_rows``),
    read as that member; no donor, gift or document leaves it.
    """
    reports.check_period(date_from, date_to)
    members: list[MemberFigures] = []
    totals: dict[str, list[int]] = {}
    for line in members_overview():
        if line.archived_at is not None:
            continue
        with use_organization(line.id):
            goods = reports.goods_rows(date_from, date_to)
            gifts: tuple[MoneyRow, ...] = ()
            if line.shares_figures:
                gifts = tuple(reports.total_rows(GiftFilters(date_from=date_from, date_to=date_to)))
        for row in gifts:
            sums = totals.setdefault(row.currency, [0, 0, 0, 0, 0])
            for i, value in enumerate(
                (row.count, row.gross_cents, row.fee_cents, row.returned_cents, row.net_cents)
            ):
                sums[i] += value
        members.append(
            MemberFigures(
                name=line.legal_name or line.slug,
                goods_received=sum(r.received for r in goods),
                goods_distributed=sum(r.distributed for r in goods),
                shares_figures=line.shares_figures,
                gifts=gifts,
            )
        )
    return CoalitionReport(
        date_from=date_from,
        date_to=date_to,
        members=tuple(members),
        goods_received=sum(m.goods_received for m in members),
        goods_distributed=sum(m.goods_distributed for m in members),
        gift_totals=tuple(
            MoneyRow("Total", currency, *values) for currency, values in sorted(totals.items())
        ),
    )
