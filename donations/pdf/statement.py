"""The blocks of a year-end (or date-range) giving statement: the period, the
running header, the gifts with their totals by fund and the goods received."""

from __future__ import annotations

from datetime import date

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, Paragraph, Spacer

from donations.pdf.content import ReceiptContent
from donations.pdf.layout import (
    FONT,
    HEADER_SIZE,
    format_day,
    goods_table,
    grid,
    money,
    para,
)
from donations.pdf.wording import (
    EN_DASH,
    GOODS_LISTED,
    NO_GOODS_LISTED,
    NO_GOODS_STATEMENT,
    NO_VALUE_IN_KIND,
)


def period_sentence(content: ReceiptContent) -> str:
    """ "Statement for calendar year 2026: January 1, 2026 - December 31, 2026" (an en dash)."""
    try:
        year = date.fromisoformat(content.period_end).year
    except (TypeError, ValueError):
        return ""
    if content.basis == "range":
        start, end = format_day(content.period_start), format_day(content.period_end)
        return f"Statement for {start} {EN_DASH} {end}"
    which = "calendar year" if content.basis == "calendar" else "fiscal year"
    return (
        f"Statement for {which} {year}: "
        f"{format_day(content.period_start)} {EN_DASH} {format_day(content.period_end)}"
    )


def running_header(content: ReceiptContent, width: float) -> str:
    """ "Statement 2026-000123 · Maria Núñez · 2026 (continued)", shortened to fit."""
    if content.kind != "statement":
        return ""
    name = " ".join(content.donor.name.split())
    year = f" · {content.tax_year}" if content.tax_year else ""

    def text(who: str) -> str:
        return f"Statement {content.number} · {who}{year} (continued)"

    line = text(name)
    while name and pdfmetrics.stringWidth(line, FONT, HEADER_SIZE) > width:
        name = name[:-2].rstrip()
        line = text(name + "…")
    return line


def statement_blocks(content: ReceiptContent, width: float) -> list[Flowable]:
    if content.deductible_listed:
        return _statement_deductible(content, width)
    currency = content.currency
    out: list[Flowable] = [para("Contributions", "h2")]
    if content.gifts:
        fixed = [22 * mm, 36 * mm, 26 * mm, 26 * mm]
        widths = [fixed[0], width - sum(fixed), *fixed[1:]]
        rows: list[list[object]] = []
        for gift in content.gifts:
            fund: list[Paragraph] = [para(gift.fund, "cell")]
            if gift.description:
                fund.append(para(gift.description, "cell_muted"))
            rows.append(
                [
                    format_day(gift.date, short=True),
                    fund,
                    para(gift.method, "cell"),
                    gift.receipt_number or "—",
                    money(gift.amount_cents, gift.currency or currency),
                ]
            )
        out.append(grid(["Date", "Fund", "Method", "Receipt", "Amount"], rows, widths, right=(4,)))
        out.append(para("Totals by fund", "h2"))
        totals: list[list[object]] = [
            [para(total.fund, "cell"), money(total.amount_cents, total.currency or currency)]
            for total in content.fund_totals
        ]
        totals.append(["Total contributions", money(content.total_cents, currency)])
        out.append(
            grid(["Fund", "Total"], totals, [width - 40 * mm, 40 * mm], right=(1,), total_rows=1)
        )
    else:
        out.append(para("No gifts of money were received in this period."))
    if content.goods_received:
        out.append(para("Goods received", "h2"))
        out.append(
            goods_table(
                [line for _, line in content.goods_received],
                width,
                dated=[day for day, _ in content.goods_received],
            )
        )
        out.append(Spacer(1, 2 * mm))
        out.append(para(NO_VALUE_IN_KIND.replace("this acknowledgement", "this statement")))
    out += [Spacer(1, 3 * mm), para(NO_GOODS_STATEMENT)]
    return out


def _goods_received(content: ReceiptContent, width: float) -> list[Flowable]:
    if not content.goods_received:
        return []
    return [
        para("Goods received", "h2"),
        goods_table(
            [line for _, line in content.goods_received],
            width,
            dated=[day for day, _ in content.goods_received],
        ),
        Spacer(1, 2 * mm),
        para(NO_VALUE_IN_KIND.replace("this acknowledgement", "this statement")),
    ]


def _statement_deductible(content: ReceiptContent, width: float) -> list[Flowable]:
    """Each gift with its amount, the value of goods or services received and what is
    deductible; the totals are deductible totals."""
    currency = content.currency
    out: list[Flowable] = [para("Contributions", "h2")]
    if content.gifts:
        fixed = [20 * mm, 30 * mm, 23 * mm, 23 * mm, 23 * mm]
        widths = [fixed[0], width - sum(fixed), *fixed[1:]]
        rows: list[list[object]] = []
        for gift in content.gifts:
            fund: list[Paragraph] = [para(gift.fund, "cell")]
            for note in (gift.description, gift.benefit_description):
                if note:
                    fund.append(para(note, "cell_muted"))
            method = [para(gift.method, "cell")]
            if gift.receipt_number:
                method.append(para(f"Receipt {gift.receipt_number}", "cell_muted"))
            gift_currency = gift.currency or currency
            rows.append(
                [
                    format_day(gift.date, short=True),
                    fund,
                    method,
                    money(gift.amount_cents, gift_currency),
                    money(gift.benefit_cents, gift_currency) if gift.benefit_cents else "—",
                    money(gift.deductible_cents, gift_currency),
                ]
            )
        rows.append(
            [
                "",
                "Total",
                "",
                money(content.gross_cents, currency),
                money(content.benefit_cents_total, currency),
                money(content.total_cents, currency),
            ]
        )
        header = ["Date", "Fund", "Method", "Amount", "Value received", "Deductible"]
        out.append(grid(header, rows, widths, right=(3, 4, 5), total_rows=1))
        out.append(para("Deductible amounts by fund", "h2"))
        totals: list[list[object]] = [
            [para(total.fund, "cell"), money(total.amount_cents, total.currency or currency)]
            for total in content.fund_totals
        ]
        totals.append(["Total deductible contributions", money(content.total_cents, currency)])
        out.append(
            grid(
                ["Fund", "Deductible"], totals, [width - 40 * mm, 40 * mm], right=(1,), total_rows=1
            )
        )
    else:
        out.append(para("No gifts of money were received in this period."))
    out += _goods_received(content, width)
    notice = GOODS_LISTED if content.benefit_cents_total else NO_GOODS_LISTED
    out += [Spacer(1, 3 * mm), para(notice)]
    return out
