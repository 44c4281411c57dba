"""A volunteer's letter of hours as a PDF, for a school or an employer.

``render_volunteer_letter`` takes the plain ``VolunteerLetter`` (``volunteer_content``)
and returns the PDF bytes, in the letters' shared frame (``letter.py``).
"""

from __future__ import annotations

from reportlab.platypus import Flowable, Paragraph, Spacer

from donations.pdf.letter import day_text, render_letter
from donations.pdf.report import _escape, _table
from donations.pdf.volunteer_content import VolunteerLetter, format_minutes


def render_volunteer_letter(letter: VolunteerLetter) -> bytes:
    """Return the letter as PDF bytes."""
    org = letter.organization_name or "Our organisation"

    def body(styles: dict) -> list[Flowable]:
        return [
            Spacer(1, 10),
            Paragraph(day_text(letter.made_on), styles["body"]),
            Spacer(1, 8),
            Paragraph("To whom it may concern,", styles["body"]),
            Spacer(1, 6),
            Paragraph(
                _escape(
                    f"This letter confirms that {letter.volunteer_name} volunteered with "
                    f"{org} from {day_text(letter.first_day)} to {day_text(letter.last_day)}, "
                    f"giving {format_minutes(letter.total_minutes)} of their time in all, as "
                    "our records show month by month below."
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
        ]

    return render_letter(
        title=f"Volunteer hours: {letter.volunteer_name}",
        organization=org,
        header_lines=[*letter.organization_lines, letter.organization_contact],
        body=body,
        signatory_name=letter.signatory_name,
        signatory_title=letter.signatory_title,
    )
