"""The acknowledgement of a professional service given without charge, as a PDF.

``render_service_letter`` takes the plain ``ServiceLetter`` (``pro_bono_content``) and
returns the PDF bytes, in the letters' shared frame (``letter.py``). It names the
service, its date and hours, never a value: the value of contributed services is not
deductible.
"""

from __future__ import annotations

from reportlab.platypus import Flowable, Paragraph, Spacer

from donations.pdf.letter import day_text, render_letter
from donations.pdf.pro_bono_content import ServiceLetter
from donations.pdf.report import _escape, _table

NOT_DEDUCTIBLE = (
    "No goods or services were provided in return for this service. The value of "
    "contributed services is not tax-deductible, so this letter states none."
)


def render_service_letter(letter: ServiceLetter) -> bytes:
    """Return the acknowledgement as PDF bytes."""
    org = letter.organization_name or "Our organisation"
    lines = [*letter.organization_lines, letter.organization_contact]
    if letter.organization_tax_id:
        lines.append(f"Tax id: {letter.organization_tax_id}")

    def body(styles: dict) -> list[Flowable]:
        story: list[Flowable] = []
        if letter.voided:
            story += [
                Spacer(1, 8),
                Paragraph("VOID: this acknowledgement was withdrawn.", styles["h2"]),
            ]
        story += [
            Spacer(1, 10),
            Paragraph(
                _escape(f"Acknowledgement {letter.number} · {day_text(letter.issued_on)}"),
                styles["body"],
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
                    ["Date of service", day_text(letter.service_date)],
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
        story += [Spacer(1, 8), Paragraph(_escape(NOT_DEDUCTIBLE), styles["body"])]
        return story

    return render_letter(
        title=f"Acknowledgement {letter.number}",
        organization=org,
        header_lines=lines,
        body=body,
        signatory_name=letter.signatory_name,
        signatory_title=letter.signatory_title,
    )
