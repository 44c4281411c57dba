"""The PDF renderers, loaded on first use.

ReportLab and the modules that draw with it take a good part of a second to import, and
most processes (the web app starting, a queue consumer waiting) never draw a PDF. The
services call these two functions; the drawing modules are imported the first time one
is called (``import_module``, so the import graph still shows ReportLab only in ``pdf/``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any


def render_receipt(*args: Any, **kwargs: Any) -> bytes:
    """``donations.pdf.render.render_receipt``: a receipt or statement as PDF bytes."""
    return import_module("donations.pdf.render").render_receipt(*args, **kwargs)


def render_report(*args: Any, **kwargs: Any) -> bytes:
    """``donations.pdf.report.render_report``: a report as PDF bytes."""
    return import_module("donations.pdf.report").render_report(*args, **kwargs)


def render_volunteer_letter(*args: Any, **kwargs: Any) -> bytes:
    """``donations.pdf.volunteer_letter.render_volunteer_letter``: a letter of hours."""
    return import_module("donations.pdf.volunteer_letter").render_volunteer_letter(*args, **kwargs)


def render_service_letter(*args: Any, **kwargs: Any) -> bytes:
    """``donations.pdf.pro_bono_letter.render_service_letter``: a pro bono acknowledgement."""
    return import_module("donations.pdf.pro_bono_letter").render_service_letter(*args, **kwargs)


def render_grant_report(*args: Any, **kwargs: Any) -> bytes:
    """``donations.pdf.grant_report.render_grant_report``: the grant report as PDF bytes."""
    return import_module("donations.pdf.grant_report").render_grant_report(*args, **kwargs)
