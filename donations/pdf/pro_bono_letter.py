"""The acknowledgement of a professional service given without charge, as a PDF.

``render_service_letter`` takes the plain ``ServiceLetter`` (``pro_bono_content``) and
returns the PDF bytes, in the style of the letter of hours. It names the service, its
date and hours, never a value: the value of contributed services is not deductible.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from donations.pdf.pro_bono_content import ServiceLetter
from donations.pdf.report import _escape, _register_fonts, _styles, _table

NOT_DEDUCTIBLE = (
    "No goods or services were provided in return for this service. The value of "
    "contributed services is not tax-deductible, so this letter states none."
)


def _day(value) -> str:
    return f"{value.day} {value:%B %Y}"


def render_service_letter(letter: ServiceLetter) -> bytes:
    """Return the acknowledgement as PDF bytes."""
    _register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"Acknowledgement {letter.number}",
    )
    org = letter.organization_name or "Our organisation"
    story: list = [Paragraph(_escape(org), styles["title"])]
    lines = [*letter.organization_lines, letter.organization_contact]
    if letter.organization_tax_id:
        lines.append(f"Tax id: {letter.organization_tax_id}")
    for line in lines:
        if line:
            story.append(Paragraph(_escape(line), styles["muted"]))
    if letter.voided:
        story += [
            Spacer(1, 8),
            Paragraph("VOID: this acknowledgement was withdrawn.", styles["h2"]),
        ]
    story += [
        Spacer(1, 10),
        Paragraph(
            _escape(f"Acknowledgement {letter.number} · {_day(letter.issued_on)}"), styles["body"]
        ),
        Spacer(1, 8),
        Paragraph(_escape(f"Dear {letter.professional_name},"), styles["body"]),
        Spacer(1, 6),
        Paragraph(
            _escape(
                f"Thank you for the professional service you gave {org} without charge. "
                "Our records show:"
            ),
            styles["body"],
        ),
        Spacer(1, 4),
        _table(
            ["Service given", ""],
            [
                ["Date of service", _day(letter.service_date)],
                ["Service", letter.service_type],
                ["Hours", letter.hours_text],
                *([["Program served", letter.program]] if letter.program else []),
            ],
        ),
        Spacer(1, 6),
    ]
    if letter.description:
        story += [
            Paragraph("What was done", styles["h2"]),
            Paragraph(_escape(letter.description), styles["body"]),
        ]
    story += [
        Spacer(1, 8),
        Paragraph(_escape(NOT_DEDUCTIBLE), styles["body"]),
        Spacer(1, 18),
    ]
    if letter.signatory_name:
        story.append(Paragraph(_escape(letter.signatory_name), styles["body"]))
    if letter.signatory_title:
        story.append(Paragraph(_escape(letter.signatory_title), styles["muted"]))
    story.append(Paragraph(_escape(org), styles["muted"]))
    doc.build(story)
    return buffer.getvalue()
