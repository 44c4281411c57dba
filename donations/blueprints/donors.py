"""Donors: treasurers and admins manage them; staff may look names up."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from donations.authz import ANY_ROLE, roles_required
from donations.extensions import db
from donations.models import Role
from donations.services import donors

bp = Blueprint("donors", __name__, url_prefix="/donors")


@bp.get("/")
@roles_required(Role.ADMIN, Role.TREASURER)
def index():
    """List donors with search and paging."""
    q = request.args.get("q", "")
    page = db.paginate(donors.donor_search_query(text=q), per_page=25, error_out=False)
    return render_template("donors/index.html", page=page, q=q)


@bp.get("/lookup")
@roles_required(*ANY_ROLE)
def lookup():
    """Find donors by name, showing names only."""
    q = request.args.get("q", "")
    return render_template("donors/lookup.html", results=donors.lookup_donors_by_name(text=q), q=q)
