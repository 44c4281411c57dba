"""Recording goods movements: the routes of the line documents, stock counts and kits.

Each page is a thin view over ``donations.services.inventory``: the line documents
(intake, distribution, transfer, adjustment) share one view, see
``movements_documents``; counts and kits have modules of their own.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, render_template

from donations.authz import roles_required
from donations.blueprints.movements_count import count
from donations.blueprints.movements_documents import LINE_DOCUMENTS, LineDocument, record_document
from donations.blueprints.movements_kits import kits
from donations.models import Role

bp = Blueprint("movements", __name__, url_prefix="/inventory")

STOCK_KEEPERS = (Role.ADMIN, Role.STAFF)
BOTH = ["GET", "POST"]


@bp.get("/record")
@roles_required(*STOCK_KEEPERS)
def record():
    """Offer one card per kind of movement."""
    return render_template("movements/record.html", here="record")


def _document_view(kind: LineDocument) -> Callable:
    """The view of one kind of line document, under its own endpoint."""

    def view():
        return record_document(kind)

    view.__name__ = kind.name
    view.__qualname__ = kind.name
    view.__doc__ = kind.summary
    return view


for _kind in LINE_DOCUMENTS:
    bp.add_url_rule(
        _kind.path,
        endpoint=_kind.name,
        view_func=roles_required(*STOCK_KEEPERS)(_document_view(_kind)),
        methods=BOTH,
    )
bp.add_url_rule("/count/new", view_func=roles_required(*STOCK_KEEPERS)(count), methods=BOTH)
bp.add_url_rule("/kits", view_func=roles_required(*STOCK_KEEPERS)(kits), methods=BOTH)
