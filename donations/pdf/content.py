"""What a receipt, acknowledgement or statement says: plain data, no reportlab.

``donations.services.receipts`` builds these from the database when a receipt
is issued and stores them as JSON (``Receipt.content``), so a receipt renders
the same forever. ``from_json``/``to_json`` round-trip them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OrgBlock:
    legal_name: str
    tax_id: str  # EIN, "12-3456789"
    address_lines: list[str]
    phone: str = ""
    email: str = ""
    website: str = ""
    signatory_name: str = ""
    signatory_title: str = ""
    footer: str = ""


@dataclass(frozen=True)
class DonorBlock:
    name: str
    address_lines: list[str] = field(default_factory=list)
    email: str = ""


@dataclass(frozen=True)
class GiftLine:
    """One gift of money as a receipt or statement lists it."""

    date: str  # ISO date the gift was received
    amount_cents: int  # what is receipted: the gift less any refund
    currency: str
    fund: str
    method: str  # "Online (Stripe)", "Cheque #1042", ...
    description: str = ""  # "Monthly gift", "In memory of ..."
    receipt_number: str = ""  # statements: the gift's own receipt, if any
    # Statements since deductible amounts are listed: goods or services received in
    # return (their fair market value) and what is left to deduct.
    benefit_cents: int = 0
    benefit_description: str = ""
    deductible_cents: int = 0


@dataclass(frozen=True)
class GoodsLine:
    """Goods received: no value is ever stated by the organisation."""

    description: str  # "Coat, adult (M)"
    quantity: int
    unit: str
    condition: str  # "New", "Good used"


@dataclass(frozen=True)
class FundTotal:
    fund: str
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class ReceiptContent:
    kind: str  # "cash" | "in_kind" | "statement"
    number: str  # "2026-000042"
    issued_on: str  # ISO date
    verification_code: str
    verify_url: str
    org: OrgBlock
    donor: DonorBlock
    currency: str
    page_size: str = "letter"  # "letter" | "a4"
    # A reissue names the receipt it replaces.
    replaces_number: str = ""
    # cash: the gift, and anything the donor received in return
    gift: GiftLine | None = None
    benefit_description: str = ""
    benefit_cents: int = 0
    deductible_cents: int = 0
    # in_kind: the goods and when they came
    received_on: str = ""
    goods: list[GoodsLine] = field(default_factory=list)
    # in_kind: IRS Form 8283 is needed when non-cash gifts exceed $500 in a year
    form_8283_reminder: bool = False
    # statement: the period and every gift in it, with totals per fund
    tax_year: str = ""  # "2026", "2026 (January - December)" or "FY 2026 (July 2025 - June 2026)"
    # "calendar" | "fiscal" | "range" (one donor, any dates); "" before there was a choice
    basis: str = ""
    period_start: str = ""
    period_end: str = ""
    gifts: list[GiftLine] = field(default_factory=list)
    fund_totals: list[FundTotal] = field(default_factory=list)
    total_cents: int = 0
    goods_received: list[tuple[str, GoodsLine]] = field(default_factory=list)  # (date, line)
    # Statements issued since each gift shows its value received and deductible amount:
    # ``total_cents`` and the fund totals are then deductible amounts.
    deductible_listed: bool = False
    gross_cents: int = 0  # what was given, before the value of goods or services received
    benefit_cents_total: int = 0
    # Sent by post: the donor has no email address.
    for_post: bool = False
    # Made in payments test mode: marked "TEST — not a tax receipt" on every page.
    is_test: bool = False

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ReceiptContent:
        data: dict[str, Any] = json.loads(text)
        data["org"] = OrgBlock(**data["org"])
        data["donor"] = DonorBlock(**data["donor"])
        data["gift"] = GiftLine(**data["gift"]) if data.get("gift") else None
        data["goods"] = [GoodsLine(**g) for g in data.get("goods", [])]
        data["gifts"] = [GiftLine(**g) for g in data.get("gifts", [])]
        data["fund_totals"] = [FundTotal(**f) for f in data.get("fund_totals", [])]
        data["goods_received"] = [
            (day, GoodsLine(**line)) for day, line in data.get("goods_received", [])
        ]
        return cls(**data)


@dataclass(frozen=True)
class VoidMark:
    """Printed across a voided receipt."""

    voided_on: str  # ISO date
    reason: str
    replaced_by: str = ""  # the number of the reissue, if any


@dataclass(frozen=True)
class Branding:
    """Printed on every document but not part of the snapshot: the current logo."""

    logo: bytes | None = None  # PNG or JPEG
