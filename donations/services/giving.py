"""The donation page: settings, funds, fee cover, and starting a Stripe checkout.

A checkout is two steps the view commits separately, because a call to Stripe
sits between them: ``prepare_checkout`` records the pending gift (found again
by its attempt id on a double-click or a retry), then ``open_checkout_session``
asks Stripe for the session with an idempotency key made from the same attempt
id, so retries never make a second charge.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import namedtuple
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import literal, select
from sqlalchemy.exc import IntegrityError

from donations import row_security
from donations.extensions import db
from donations.integrations.stripe_gateway import CheckoutRequest, CheckoutSession, PaymentGateway
from donations.models import (
    Donor,
    Frequency,
    Fund,
    Gift,
    GiftMethod,
    GiftSource,
    GiftStatus,
    GivingSettings,
    Organization,
    PlanStatus,
    RecurringPlan,
    TributeType,
)
from donations.money import format_money, gross_up
from donations.services import donors as donor_service
from donations.services import payment_keys
from donations.services.appeals import appeal_from_link
from donations.services.campaigns.rules import open_campaign
from donations.services.campaigns.supporter_gifts import check_page_of_donation, page_for_new_gift
from donations.services.donor_links import gift_for_token as gift_for_token
from donations.services.donor_links import gift_token as gift_token
from donations.services.donor_links import plan_for_token as plan_for_token
from donations.services.donor_links import plan_token as plan_token
from donations.services.errors import InvalidInput
from donations.services.locking import serialize_writes
from donations.services.organization import (
    DEFAULT_NAME,
    get_organization,
    remember_organization_name,
)
from donations.tenancy import HOME_ORGANIZATION_ID, current_organization_id

log = logging.getLogger(__name__)

DEFAULT_FUNDS = [
    ("General", "Where the need is greatest.", False),
    ("Shelter operations", "Beds, utilities, food and safety at the shelter.", True),
    ("Survivor services", "Counselling, legal help, job training and transport.", True),
]


def get_giving_settings() -> GivingSettings:
    """Return the donation page settings, with defaults when none were saved."""
    settings = db.session.get(GivingSettings, current_organization_id())
    if settings is not None:
        return settings
    return GivingSettings(**_SETTINGS_DEFAULTS)  # not added to the session: nothing is written


def default_currency() -> str:
    org = get_organization()
    return org.default_currency if org else "USD"


def active_funds() -> list[Fund]:
    """Return the funds a donor may choose, in display order."""
    return list(
        db.session.scalars(
            select(Fund).where(Fund.active.is_(True)).order_by(Fund.sort_order, Fund.name)
        )
    )


@dataclass(frozen=True)
class FundChoice:
    """A fund as the donation page offers it."""

    id: int
    name: str
    description: str
    is_restricted: bool


@dataclass(frozen=True)
class PageSettings:
    """The donation page settings as read for one request (same names as GivingSettings)."""

    preset_amounts: str
    min_amount_cents: int
    max_amount_cents: int
    fee_percent_bp: int
    fee_fixed_cents: int
    impact_text: str
    default_fund_id: int | None

    @property
    def preset_list(self) -> list[int]:
        return [int(p) for p in self.preset_amounts.split(",") if p.strip().isdigit()]


@dataclass(frozen=True)
class DonationPage:
    """Everything the donation form shows: settings, the funds offered, currency, name."""

    settings: PageSettings
    funds: tuple[FundChoice, ...]
    currency: str
    org_name: str


_SETTINGS_COLUMNS = tuple(f.name for f in dataclasses.fields(PageSettings))
_SETTINGS_DEFAULTS = {
    column.key: column.default.arg
    for column in GivingSettings.__table__.columns
    if column.default is not None and not callable(column.default.arg)
}


@lru_cache(maxsize=64)
def _page_query(organization_id: int):
    """The page's one query for an organisation (Core: the scope is written out here)."""
    funds, settings, org = Fund.__table__, GivingSettings.__table__, Organization.__table__
    return (
        select(
            funds.c.id,
            funds.c.name,
            funds.c.description,
            funds.c.is_restricted,
            *(settings.c[name] for name in _SETTINGS_COLUMNS),
            settings.c.id.label("settings_saved"),
            org.c.legal_name,
            org.c.default_currency,
            # The page layout's test-mode banner: whether a Stripe secret key is stored.
            *payment_keys.presence_columns(literal(organization_id)),
        )
        .select_from(
            funds.outerjoin(settings, settings.c.id == organization_id).outerjoin(
                org, org.c.id == organization_id
            )
        )
        .where(funds.c.organization_id == organization_id, funds.c.active.is_(True))
        .order_by(funds.c.sort_order, funds.c.name)
    )


_PageRow = namedtuple("_PageRow", _page_query(HOME_ORGANIZATION_ID).selected_columns.keys())
_PAGE_SQL: dict[tuple[str, int], str] = {}  # the query's SQL per dialect and organisation


def _page_rows() -> list:
    """Read the page's rows in the request's transaction, or on a pooled connection alone.

    A stranger's GET of the donation page touches nothing else in the database, and the
    ORM session's and even Core's set-up per statement cost several times this one query:
    without a session already at work, the query's SQL (compiled once per dialect, no
    parameters) runs on a DBAPI connection from the engine's pool (committed data, as the
    session would see at its start; returned to the pool, and so rolled back, at once).
    """
    organization_id = current_organization_id()
    if db.session.registry.has() and db.session().in_transaction():
        return db.session.connection().execute(_page_query(organization_id)).all()
    engine = db.engine
    key = (engine.dialect.name, organization_id)
    sql = _PAGE_SQL.get(key)
    if sql is None:
        compiled = _page_query(organization_id).compile(
            dialect=engine.dialect, compile_kwargs={"literal_binds": True}
        )
        sql = _PAGE_SQL[key] = str(compiled)
    connection = engine.raw_connection()
    try:
        row_security.sync_raw(engine, connection)
        cursor = connection.cursor()
        try:
            cursor.execute(sql)
            return [_PageRow(*row) for row in cursor.fetchall()]
        finally:
            cursor.close()
    finally:
        connection.close()


_PAGES: dict[tuple, DonationPage] = {}  # the page made from each set of rows last read


def donation_page() -> DonationPage | None:
    """Read what the donation form shows in one query; None when no fund is open.

    One row per active fund, each carrying the settings and organisation row beside it
    (plain rows, not ORM objects: the page only reads them). The page is a frozen value
    made from those rows alone, so the page made from equal rows is kept and used again.
    """
    rows = _page_rows()
    if not rows:
        return None
    first = rows[0]
    key = tuple(rows)
    try:
        page = _PAGES.get(key)
    except TypeError:  # a value that cannot be a key (none today): made anew each time
        key, page = None, None
    if page is None:
        page = _page_from_rows(rows)
        if key is not None:
            if len(_PAGES) >= 64:  # organisations x versions of their settings
                _PAGES.clear()
            _PAGES[key] = page
    remember_organization_name(page.org_name)
    payment_keys.remember_stored_presence(
        payment_keys.StoredPresence(
            settings=bool(first.stored_settings), secret_key=bool(first.stored_secret_key)
        )
    )
    return page


def _page_from_rows(rows: list) -> DonationPage:
    first = rows[0]
    if first.settings_saved is None:  # not saved yet: the model's defaults
        values = {name: _SETTINGS_DEFAULTS.get(name) for name in _SETTINGS_COLUMNS}
    else:
        values = {name: getattr(first, name) for name in _SETTINGS_COLUMNS}
    values["impact_text"] = values["impact_text"] or ""
    return DonationPage(
        settings=PageSettings(**values),
        funds=tuple(
            FundChoice(row.id, row.name, row.description or "", bool(row.is_restricted))
            for row in rows
        ),
        currency=first.default_currency or "USD",
        org_name=first.legal_name or DEFAULT_NAME,
    )


def ensure_default_funds() -> list[Fund]:
    """Create the three standard funds when there are none."""
    if db.session.scalar(select(Fund.id).limit(1)) is None:
        for order, (name, description, restricted) in enumerate(DEFAULT_FUNDS):
            db.session.add(
                Fund(name=name, description=description, is_restricted=restricted, sort_order=order)
            )
        db.session.flush()
    return active_funds()


@dataclass(frozen=True)
class FeeCover:
    gift_cents: int  # what the donor chose to give
    total_cents: int  # what is charged
    covered_cents: int  # total - gift: the part that pays the processing fee


def fee_cover(
    amount_cents: int, *, cover: bool, settings: GivingSettings | PageSettings
) -> FeeCover:
    """Return what to charge so the organisation keeps ``amount_cents`` after fees."""
    if not cover:
        return FeeCover(amount_cents, amount_cents, 0)
    total = gross_up(
        amount_cents, percent_bp=settings.fee_percent_bp, fixed_cents=settings.fee_fixed_cents
    )
    return FeeCover(amount_cents, total, total - amount_cents)


@dataclass(frozen=True)
class Donation:
    """What a donor asked for on the donation page, already checked by its form."""

    amount_cents: int
    currency: str
    frequency: Frequency
    fund_id: int
    cover_fee: bool
    name: str
    email: str
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    is_anonymous: bool = False
    tribute_type: str = ""
    tribute_name: str = ""
    tribute_notify_email: str = ""
    campaign_id: int | None = None  # given on a campaign's page
    appeal_code: str = ""  # the mail or print appeal's code from the donor's link
    supporter_page_id: int | None = None  # given on a supporter's page (under the campaign)
    shares_amount: bool = False  # the donor lets that page's supporter see the amount


def check_donation(donation: Donation) -> FeeCover:
    """Raise InvalidInput (with its field) unless the donation can go to checkout;
    CampaignNotOpen when its campaign no longer takes gifts."""
    open_campaign(donation.campaign_id)
    check_page_of_donation(donation.supporter_page_id, donation.campaign_id)
    settings = get_giving_settings()
    if donation.amount_cents < settings.min_amount_cents:
        minimum = format_money(settings.min_amount_cents, donation.currency)
        raise InvalidInput(f"The smallest gift we can take online is {minimum}.", field="amount")
    if donation.amount_cents > settings.max_amount_cents:
        maximum = format_money(settings.max_amount_cents, donation.currency)
        raise InvalidInput(
            f"For gifts over {maximum}, please contact us: we will help you give safely.",
            field="amount",
        )
    fund = db.session.get(Fund, donation.fund_id)
    if fund is None or not fund.active:
        raise InvalidInput("Choose one of the funds listed.", field="fund")
    if donation.tribute_type:
        if donation.tribute_type not in {t.value for t in TributeType}:
            raise InvalidInput("Choose in honour or in memory.", field="tribute_type")
        if not donation.tribute_name.strip():
            raise InvalidInput(
                "Enter the name of the person you are honouring.", field="tribute_name"
            )
    elif donation.tribute_notify_email:
        raise InvalidInput("Choose in honour or in memory first.", field="tribute_type")
    if not donation.email.strip():
        raise InvalidInput("Enter your email: your receipt goes there.", field="email")
    return fee_cover(donation.amount_cents, cover=donation.cover_fee, settings=settings)


def _donor_for(donation: Donation) -> Donor:
    """Find the donor by email, or add them; fill blanks of a known donor."""
    email = donation.email.strip().lower()
    donor = db.session.scalar(
        select(Donor)
        .where(Donor.email == email, Donor.merged_into_id.is_(None))
        .order_by(Donor.id)
        .limit(1)
    )
    address = {
        "address_line1": donation.address_line1,
        "address_line2": donation.address_line2,
        "city": donation.city,
        "region": donation.region,
        "postal_code": donation.postal_code,
        "country": donation.country,
    }
    if donor is None:
        return donor_service.create_donor(actor=None, name=donation.name, email=email, **address)
    blanks = {k: v for k, v in address.items() if v and not getattr(donor, k)}
    if blanks:
        donor_service.update_donor(actor=None, donor=donor, **blanks)
    return donor


def prepare_checkout(*, donation: Donation, attempt_id: str) -> Gift:
    """Record the pending gift (and monthly plan) for this attempt, or find it again."""
    existing = db.session.scalar(select(Gift).where(Gift.checkout_attempt_id == attempt_id))
    if existing is not None:
        return existing
    serialize_writes("checkout")  # two clicks at the same instant: the second waits here
    existing = db.session.scalar(
        select(Gift).where(Gift.checkout_attempt_id == attempt_id).with_for_update()
    )
    if existing is not None:
        return existing
    try:
        with db.session.begin_nested():
            return _new_pending_gift(donation=donation, attempt_id=attempt_id)
    except IntegrityError:  # PostgreSQL: the other click inserted it first
        gift = db.session.scalar(select(Gift).where(Gift.checkout_attempt_id == attempt_id))
        if gift is None:
            raise
        return gift


def _new_pending_gift(*, donation: Donation, attempt_id: str) -> Gift:
    cover = check_donation(donation)
    donor = _donor_for(donation)
    appeal_code = appeal_from_link(donation.appeal_code)
    page_id = page_for_new_gift(donation.supporter_page_id, donation.campaign_id)
    plan = None
    if donation.frequency == Frequency.MONTHLY:
        plan = RecurringPlan(
            donor_id=donor.id,
            fund_id=donation.fund_id,
            campaign_id=donation.campaign_id,
            supporter_page_id=page_id,
            shares_amount=donation.shares_amount,
            appeal_code=appeal_code,
            amount_cents=cover.total_cents,
            covered_fee_cents=cover.covered_cents,
            currency=donation.currency,
            status=PlanStatus.INCOMPLETE,
            is_anonymous=donation.is_anonymous,
        )
        db.session.add(plan)
        db.session.flush()
    gift = Gift(
        donor_id=donor.id,
        fund_id=donation.fund_id,
        campaign_id=donation.campaign_id,
        supporter_page_id=page_id,
        shares_amount=donation.shares_amount,
        appeal_code=appeal_code,
        source=GiftSource.ONLINE,
        method=GiftMethod.CARD,
        frequency=donation.frequency,
        status=GiftStatus.PENDING,
        currency=donation.currency,
        amount_cents=cover.total_cents,
        covered_fee_cents=cover.covered_cents,
        is_anonymous=donation.is_anonymous,
        tribute_type=donation.tribute_type,
        tribute_name=donation.tribute_name.strip(),
        tribute_notify_email=donation.tribute_notify_email.strip().lower(),
        checkout_attempt_id=attempt_id,
        plan_id=plan.id if plan else None,
    )
    db.session.add(gift)
    db.session.flush()
    return gift


def checkout_metadata(gift: Gift) -> dict[str, str]:
    metadata = {
        "gift_id": str(gift.id),
        "donor_id": str(gift.donor_id),
        "fund_id": str(gift.fund_id),
    }
    if gift.plan_id:
        metadata["plan_id"] = str(gift.plan_id)
    if gift.campaign_id:
        metadata["campaign_id"] = str(gift.campaign_id)
    if gift.appeal_code:
        metadata["appeal_code"] = gift.appeal_code
    if gift.supporter_page_id:
        metadata["supporter_page_id"] = str(gift.supporter_page_id)
    return metadata


def open_checkout_session(
    *, gift: Gift, gateway: PaymentGateway, success_url: str, cancel_url: str
) -> CheckoutSession:
    """Ask Stripe for the checkout session of a pending gift (idempotent per attempt).

    Raises GatewayError when Stripe cannot be reached; the gift stays pending.
    """
    if gift.status != GiftStatus.PENDING:
        raise InvalidInput("This gift has already been paid or closed.")
    fund = gift.fund
    mode = "subscription" if gift.frequency == Frequency.MONTHLY else "payment"
    org = get_organization()
    org_name = org.legal_name if org else "our shelter"
    label = "Monthly gift" if mode == "subscription" else "Gift"
    session = gateway.create_checkout_session(
        CheckoutRequest(
            gift_id=gift.id,
            mode=mode,
            amount_cents=gift.amount_cents,
            currency=gift.currency,
            product_name=f"{label} to {org_name}: {fund.name}",
            customer_email=gift.donor.email or "",
            success_url=success_url,
            cancel_url=cancel_url,
            idempotency_key=f"checkout-{gift.checkout_attempt_id}",
            metadata=checkout_metadata(gift),
        )
    )
    gift.stripe_checkout_session_id = session.id
    db.session.flush()
    return session


def portal_url(*, plan: RecurringPlan, gateway: PaymentGateway, return_url: str) -> str:
    """Return a Stripe billing portal address where the donor manages this plan."""
    if not plan.stripe_customer_id:
        raise InvalidInput(
            "Your monthly gift is still being set up. Try this link again in a few minutes."
        )
    return gateway.create_portal_session(customer_id=plan.stripe_customer_id, return_url=return_url)
