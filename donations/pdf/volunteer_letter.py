"""A volunteer's letter of hours as a PDF, for a school or an employer.

``render_volunteer_letter`` takes the plain ``VolunteerLetter`` (``volunteer_content``)
and returns the PDF bytes; the same fonts and table style as the treasurer's report.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from donations.pdf.report import _escape, _register_fonts, _styles, _table
from donations.pdf.volunteer_content import VolunteerLetter, format_minutes


def _day(value) -> str:
    return f"{value.day} {value:%B %Y}"


def render_volunteer_letter(letter: VolunteerLetter) -> bytes:
    """Return the letter as PDF bytes."""
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
        title=f"Volunteer hours: {letter.volunteer_name}",
    )
    org = letter.organization_name or "Our organisation"
    story: list = [Paragraph(_escape(org), styles["title"])]
    for line in [*letter.organization_lines, letter.organization_contact]:
        if line:
            story.append(Paragraph(_escape(line), styles["muted"]))
    story += [
        Spacer(1, 10),
        Paragraph(_day(letter.made_on), styles["body"]),
        Spacer(1, 8),
        Paragraph("To whom it may concern,", styles["body"]),
        Spacer(1, 6),
        Paragraph(
            _escape(
                f"This letter confirms that {letter.volunteer_name} volunteered with {org} "
                f"from {_day(letter.first_day)} to {_day(letter.last_day)}, giving "
                f"{format_minutes(letter.total_minutes)} of their time in all, as our records "
                "show month by month below."
            ),
            styles["body"],
        ),
        Paragraph("Hours by month", styles["h2"]),
        _table(
            ["Month", "Hours"],
            [[m.label, m.hours_text] for m in letter.months]
            + [["Total", format_minutes(letter.total_minutes)]],
            total_rows=1,
        ),
        Spacer(1, 10),
        Paragraph(
            _escape(f"We are grateful for {letter.volunteer_name}'s help."),
            styles["body"],
        ),
        Spacer(1, 18),
    ]
    if letter.signatory_name:
        story.append(Paragraph(_escape(letter.signatory_name), styles["body"]))
    if letter.signatory_title:
        story.append(Paragraph(_escape(letter.signatory_title), styles["muted"]))
    story.append(Paragraph(_escape(org), styles["muted"]))
    doc.build(story)
    return buffer.getvalue()
