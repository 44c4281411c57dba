"""What the dashboard shows: setup steps for a new installation, money and goods at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import (
    Item,
    MailStatus,
    OutboxMessage,
    PlanStatus,
    QueueConsumer,
    RecurringPlan,
    Role,
    Site,
    StockDocument,
    StockLevel,
    User,
    utcnow,
)
from donations.services import (
    accounts,
    background_jobs,
    backup,
    catalog,
    gifts,
    giving,
    inventory,
    partner_requests,
    payments,
    reports,
    summaries,
)
from donations.services.organization import get_organization


@dataclass(frozen=True)
class MoneyOverview:
    """This year's gifts per currency, and the counts of what needs a treasurer."""

    year: int
    totals: list[gifts.Totals]
    past_due: int
    events: int
    failed_mail: int


@dataclass(frozen=True)
class SystemHealth:
    """What an admin must know about the machinery: the job consumer and the backups."""

    now: datetime
    consumer: QueueConsumer | None
    consumer_silent: bool
    last_backup: backup.BackupFile | None
    backup_overdue: bool
    silent_minutes: int = background_jobs.SILENT_MINUTES
    overdue_days: int = backup.OVERDUE_DAYS


def system_health() -> SystemHealth:
    """Is a queue consumer alive, and how old is the last backup."""
    folder = backup.backup_folder()
    return SystemHealth(
        now=utcnow(),
        consumer=background_jobs.last_consumer(),
        consumer_silent=background_jobs.consumer_is_silent(background_jobs.SILENT_MINUTES),
        last_backup=backup.last_backup(folder),
        backup_overdue=backup.backup_is_overdue(folder, backup.OVERDUE_DAYS),
    )


@dataclass(frozen=True)
class SetupStep:
    """One thing a new installation needs before it is useful, and whether it is done."""

    title: str
    why: str
    endpoint: str | None
    done: bool


def _any_active_item() -> bool:
    """Is there an item in the catalog: one indexed row, not the whole catalog."""
    return db.session.scalar(select(Item.id).where(Item.active.is_(True)).limit(1)) is not None


def setup_steps() -> list[SetupStep] | None:
    """What an admin still has to set up, in order; None once the essentials are done."""
    org = get_organization()
    others = db.session.scalar(
        accounts.active_members(Role.TREASURER, Role.STAFF, Role.PARTNER).with_only_columns(
            func.count(User.id)
        )
    )
    steps = [
        SetupStep(
            "Fill in the organisation profile",
            "Receipts need the legal name, EIN and address.",
            "admin.organization",
            bool(org and org.legal_name and org.tax_id),
        ),
        SetupStep(
            "Add a fund",
            "The donation page stays closed until donors have at least one fund to give to.",
            "funds_admin.funds",
            bool(giving.active_funds()),
        ),
        SetupStep(
            "Add your sites",
            "The warehouse, each shelter (its address stays confidential) and any public "
            "drop-off point.",
            "catalog.sites",
            bool(catalog.list_sites(include_inactive=False)),
        ),
        SetupStep(
            "Fill the catalog",
            "The items you keep and give out; on the server, flask inventory seed adds a "
            "standard catalog to start from.",
            "catalog.items",
            _any_active_item(),
        ),
        SetupStep(
            "Add your team",
            "Treasurers record and receipt gifts; staff record goods.",
            "admin.users",
            bool(others),
        ),
    ]
    if all(step.done for step in steps):
        return None
    steps.append(
        SetupStep(
            "Connect Stripe",
            "Until your Stripe keys are entered the site is in test mode: checkout goes to a "
            "local test page and no money moves.",
            "admin.payments",
            not payments.is_test_mode(),
        )
    )
    return steps


def money_overview() -> MoneyOverview:
    """What treasurers and admins see first: this year's gifts, and what needs them."""
    date_from, date_to = reports.default_period()
    pieces = summaries.cover(date_from, date_to)  # the year's row: no gift is read
    totals = [
        gifts.Totals(currency, count, gross, fee, returned, net)
        for _key, currency, count, gross, fee, returned, net in summaries.money_sums(
            pieces, by="currency"
        )
    ]
    past_due = db.session.scalar(
        select(func.count(RecurringPlan.id)).where(RecurringPlan.status == PlanStatus.PAST_DUE)
    )
    failed_mail = db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.status == MailStatus.FAILED)
    )
    return MoneyOverview(
        year=date_from.year,
        totals=totals,
        past_due=int(past_due or 0),
        events=gifts.count_events_needing_attention(),
        failed_mail=int(failed_mail or 0),
    )


@dataclass(frozen=True)
class UnderPar:
    """The items most under par, grouped by site, and how many there are in all."""

    by_site: list[tuple[Site, list[StockLevel]]]
    total: int
    shown: int


def under_par_overview(*, limit: int) -> UnderPar:
    """The ``limit`` stock levels most under par; a site appears where its worst item is."""
    query = inventory.under_par_query()
    under_par = list(db.session.scalars(query.limit(limit)))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    by_site: dict[int, list[StockLevel]] = {}
    for level in under_par:  # most short first
        by_site.setdefault(level.site_id, []).append(level)
    return UnderPar(
        by_site=[(rows[0].site, rows) for rows in by_site.values()],
        total=int(total or 0),
        shown=len(under_par),
    )


def recent_documents(*, limit: int) -> list[StockDocument]:
    """The latest stock documents, newest first."""
    return list(db.session.scalars(inventory.documents_query().limit(limit)))


def open_partner_requests() -> int:
    """How many partner agencies' requests wait for an answer: one count on an index."""
    return partner_requests.count_open_requests()
