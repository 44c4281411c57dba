"""The home page and the signed-in dashboard."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from donations.authz import ANY_ROLE, public, roles_required
from donations.services.organization import get_organization

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def home():
    """Show the public home page."""
    return render_template("main/home.html", org=get_organization())


@bp.get("/dashboard")
@roles_required(*ANY_ROLE)
def dashboard():
    """Show what the signed-in user can do, by role."""
    return render_template("main/dashboard.html", org=get_organization())


@bp.get("/healthz")
@public
def healthz():
    """Answer load balancers: the app is up."""
    return {"status": "ok"}


@bp.get("/favicon.ico")
@public
def favicon():
    return redirect(url_for("static", filename="favicon.svg"))


def signed_in_home_url() -> str:
    return url_for("main.dashboard") if current_user.is_authenticated else url_for("main.home")
