"""The frame every letter shares (the letter of hours, the acknowledgement of a
professional service): A4 with the treasurer's report's fonts and styles, the
organisation's name and address at the top, and the signature at the foot. A letter
gives only its title, its header lines and its body."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from donations.pdf.report import _escape, _register_fonts, _styles


def day_text(value: date) -> str:
    """A day as a letter writes it: 6 December 2026."""
    return f"{value.day} {value:%B %Y}"


def render_letter(
    *,
    title: str,
    organization: str,
    header_lines: Iterable[str],
    body: Callable[[dict], list[Flowable]],
    signatory_name: str = "",
    signatory_title: str = "",
) -> bytes:
    """Return the PDF bytes of a letter from ``organization``: ``header_lines`` (blank
    ones left out) under its name, then ``body(styles)``, then the signature."""
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
        title=title,
    )
    story: list[Flowable] = [Paragraph(_escape(organization), styles["title"])]
    story += [Paragraph(_escape(line), styles["muted"]) for line in header_lines if line]
    story += body(styles)
    story.append(Spacer(1, 18))
    if signatory_name:
        story.append(Paragraph(_escape(signatory_name), styles["body"]))
    if signatory_title:
        story.append(Paragraph(_escape(signatory_title), styles["muted"]))
    story.append(Paragraph(_escape(organization), styles["muted"]))
    doc.build(story)
    return buffer.getvalue()
