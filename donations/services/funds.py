"""Funds a gift can go to, and the settings of the public donation page."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import Fund, GivingSettings, User
from donations.money import (
    CURRENCY_SYMBOLS,
    AmountError,
    exponent,
    format_money,
    format_plain,
    parse_amount,
)
from donations.services.audit import describe_changes, record_audit, snapshot
from donations.services.errors import InvalidInput
from donations.tenancy import current_organization_id

FUND_FIELDS = ("name", "description", "is_restricted", "active", "sort_order")
SETTINGS_FIELDS = (
    "preset_amounts",
    "min_amount_cents",
    "max_amount_cents",
    "fee_percent_bp",
    "fee_fixed_cents",
    "impact_text",
    "default_fund_id",
)
FUND_NAME_MAX_LENGTH: int = Fund.__table__.c.name.type.length
FUND_DESCRIPTION_MAX_LENGTH: int = Fund.__table__.c.description.type.length
PRESETS_MAX_LENGTH: int = GivingSettings.__table__.c.preset_amounts.type.length
IMPACT_TEXT_MAX_LENGTH = 1000  # a Text column; this is the policy limit
MAX_PRESETS = 8
SORT_ORDER_MAX = 9999
FEE_PERCENT_MAX = Decimal(50)
# The largest amount an INTEGER column holds, in minor units.
AMOUNT_CENTS_MAX = 2**31 - 1


def list_funds() -> list[Fund]:
    """Return every fund, active or not, in display order."""
    return list(db.session.scalars(select(Fund).order_by(Fund.sort_order, Fund.name)))


def _fund_values(
    *, fund: Fund | None, name: str, description: str, sort_order: int
) -> tuple[str, str]:
    name = name.strip()
    description = description.strip()
    if not name:
        raise InvalidInput("Enter the fund's name.", field="name")
    if len(name) > FUND_NAME_MAX_LENGTH:
        raise InvalidInput(f"Use at most {FUND_NAME_MAX_LENGTH} characters.", field="name")
    if len(description) > FUND_DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(
            f"Use at most {FUND_DESCRIPTION_MAX_LENGTH} characters.", field="description"
        )
    if not 0 <= sort_order <= SORT_ORDER_MAX:
        raise InvalidInput(f"Use a number from 0 to {SORT_ORDER_MAX}.", field="sort_order")
    same_name = select(Fund.id).where(func.lower(Fund.name) == name.lower())
    if fund is not None and fund.id is not None:
        same_name = same_name.where(Fund.id != fund.id)
    if db.session.scalar(same_name.limit(1)) is not None:
        raise InvalidInput(f"There is already a fund called {name}.", field="name")
    return name, description


def create_fund(
    *,
    actor: User | None,
    name: str,
    description: str = "",
    is_restricted: bool = False,
    active: bool = True,
    sort_order: int = 0,
) -> Fund:
    """Add a fund donors can choose (when active)."""
    name, description = _fund_values(
        fund=None, name=name, description=description, sort_order=sort_order
    )
    fund = Fund(
        name=name,
        description=description,
        is_restricted=is_restricted,
        active=active,
        sort_order=sort_order,
    )
    db.session.add(fund)
    db.session.flush()
    kind = "restricted" if is_restricted else "unrestricted"
    record_audit(
        actor=actor,
        action="fund.create",
        object_type="fund",
        object_id=fund.id,
        summary=f"created {kind} fund {fund.name}" + ("" if active else " (inactive)"),
    )
    return fund


def update_fund(
    *,
    actor: User | None,
    fund: Fund,
    name: str,
    description: str,
    is_restricted: bool,
    active: bool,
    sort_order: int,
) -> Fund:
    """Change a fund's name, description, restriction, active flag or order."""
    name, description = _fund_values(
        fund=fund, name=name, description=description, sort_order=sort_order
    )
    before = snapshot(fund, FUND_FIELDS)
    fund.name = name
    fund.description = description
    fund.is_restricted = is_restricted
    fund.active = active
    fund.sort_order = sort_order
    changes = describe_changes(before, snapshot(fund, FUND_FIELDS))
    if changes:
        db.session.flush()
        record_audit(
            actor=actor,
            action="fund.update",
            object_type="fund",
            object_id=fund.id,
            summary=changes,
        )
    return fund


def percent_to_basis_points(text: str) -> int:
    """Return a percentage written as text ("2.9", "2.9 %") in basis points (290).

    Decimal only, never float. Raises InvalidInput for non-numbers, more than
    two decimal places, or a value outside 0 to 50.
    """
    cleaned = (text or "").strip().removesuffix("%").strip()
    if not cleaned:
        raise InvalidInput("Enter the percentage, such as 2.9.", field="fee_percent")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(
            "Enter the percentage as a number, such as 2.9.", field="fee_percent"
        ) from None
    if not value.is_finite() or not 0 <= value <= FEE_PERCENT_MAX:
        raise InvalidInput(f"Enter a percentage from 0 to {FEE_PERCENT_MAX}.", field="fee_percent")
    basis_points = value.scaleb(2)
    if basis_points != basis_points.to_integral_value():
        raise InvalidInput("Use at most two decimal places.", field="fee_percent")
    return int(basis_points)


def basis_points_to_percent(basis_points: int) -> str:
    """Return basis points as a percentage for people and inputs: 290 -> "2.9"."""
    return format(Decimal(basis_points).scaleb(-2).normalize(), "f")


def update_giving_settings(
    *,
    actor: User | None,
    preset_amounts: list[int],
    min_amount_cents: int,
    max_amount_cents: int,
    fee_percent_bp: int,
    fee_fixed_cents: int,
    impact_text: str,
    default_fund_id: int | None,
    currency: str = "USD",
) -> GivingSettings:
    """Check and save the donation page settings; ``currency`` only words the messages.

    Error fields name the admin form's fields: preset_amounts, min_amount,
    max_amount, fee_percent, fee_fixed, impact_text, default_fund.
    """
    if not 0 < min_amount_cents <= AMOUNT_CENTS_MAX:
        raise InvalidInput("Enter a minimum greater than zero.", field="min_amount")
    if not 0 < max_amount_cents <= AMOUNT_CENTS_MAX:
        raise InvalidInput("Enter a smaller maximum.", field="max_amount")
    if min_amount_cents >= max_amount_cents:
        raise InvalidInput("The maximum must be more than the minimum.", field="max_amount")
    presets = sorted(set(preset_amounts))
    if len(presets) > MAX_PRESETS:
        raise InvalidInput(f"Offer at most {MAX_PRESETS} amounts.", field="preset_amounts")
    for cents in presets:
        if not min_amount_cents <= cents <= max_amount_cents:
            raise InvalidInput(
                f"{format_money(cents, currency)} is outside the minimum and maximum "
                f"({format_money(min_amount_cents, currency)} to "
                f"{format_money(max_amount_cents, currency)}).",
                field="preset_amounts",
            )
    stored_presets = ",".join(str(cents) for cents in presets)
    if len(stored_presets) > PRESETS_MAX_LENGTH:
        raise InvalidInput("Offer fewer amounts.", field="preset_amounts")
    if not 0 <= fee_percent_bp <= int(FEE_PERCENT_MAX) * 100:
        raise InvalidInput(f"Enter a percentage from 0 to {FEE_PERCENT_MAX}.", field="fee_percent")
    if not 0 <= fee_fixed_cents <= max_amount_cents:
        raise InvalidInput("Enter a fixed fee of zero or more.", field="fee_fixed")
    impact_text = impact_text.strip()
    if len(impact_text) > IMPACT_TEXT_MAX_LENGTH:
        raise InvalidInput(f"Use at most {IMPACT_TEXT_MAX_LENGTH} characters.", field="impact_text")
    if default_fund_id is not None:
        fund = db.session.get(Fund, default_fund_id)
        if fund is None or not fund.active:
            raise InvalidInput("Choose an active fund.", field="default_fund")

    settings = db.session.get(GivingSettings, current_organization_id())
    created = settings is None
    if settings is None:
        settings = GivingSettings(id=current_organization_id())
        db.session.add(settings)
    values = {
        "preset_amounts": stored_presets,
        "min_amount_cents": min_amount_cents,
        "max_amount_cents": max_amount_cents,
        "fee_percent_bp": fee_percent_bp,
        "fee_fixed_cents": fee_fixed_cents,
        "impact_text": impact_text,
        "default_fund_id": default_fund_id,
    }
    before = {} if created else snapshot(settings, SETTINGS_FIELDS)
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.flush()
    changes = describe_changes(before, snapshot(settings, SETTINGS_FIELDS))
    if created or changes:
        record_audit(
            actor=actor,
            action="giving_settings.create" if created else "giving_settings.update",
            object_type="giving_settings",
            object_id=settings.id,
            summary=changes,
        )
    return settings


def format_short(cents: int, currency: str) -> str:
    """Format money for labels, leaving off zero minor units: 5000 -> "$50", 5050 -> "$50.50"."""
    text = format_money(cents, currency)
    digits = exponent(currency)
    if digits and cents % 10**digits == 0:
        text = text.replace("." + "0" * digits, "", 1)
    return text


def format_short_plain(cents: int, currency: str) -> str:
    """Format money for inputs, leaving off zero minor units: 5000 -> "50", 30 -> "0.30"."""
    text = format_plain(cents, currency)
    digits = exponent(currency)
    if digits and cents % 10**digits == 0:
        text = text.split(".", 1)[0]
    return text


def parse_money(text: str, currency: str, *, field: str, allow_zero: bool = False) -> int:
    """Return money written as text in minor units; raise InvalidInput(field=field) if it is not."""
    cleaned = (text or "").strip()
    if allow_zero:
        digits = cleaned.removeprefix(CURRENCY_SYMBOLS.get(currency.upper(), "$")).strip()
        digits = digits.replace(".", "")
        if digits and set(digits) == {"0"}:
            return 0
    try:
        return parse_amount(cleaned, currency)
    except AmountError as error:
        message = str(error)
        if allow_zero and "greater than zero" in message:
            message = "Enter zero or more, such as 0.30."
        raise InvalidInput(message, field=field) from None


def parse_preset_amounts(text: str, currency: str) -> list[int]:
    """Return amounts written like "25, 50, 100, 250" in minor units.

    Commas, semicolons and spaces separate amounts, so thousands separators
    cannot be used. Raises InvalidInput(field="preset_amounts").
    """
    amounts = []
    for part in re.split(r"[,;\s]+", text or ""):
        if part:
            try:
                amounts.append(parse_amount(part, currency))
            except AmountError as error:
                raise InvalidInput(f"{part}: {error}", field="preset_amounts") from None
    return amounts
