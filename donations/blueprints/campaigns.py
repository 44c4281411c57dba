"""The public side of campaigns: the list of them, and each one's image.

A campaign's own page, with the donation form, is ``give.campaign`` (/give/<slug>).
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, request
from flask_login import current_user

from donations.authz import public
from donations.models import CampaignStatus
from donations.services import campaigns
from donations.services.errors import NotFound

bp = Blueprint("campaigns", __name__)

# Image addresses carry their version (?v=...): a new image is a new address.
IMAGE_MAX_AGE = 86_400


@bp.get("/campaigns")
@public
def index():
    """List the live campaigns, then the closed ones, each with its progress."""
    shown = campaigns.public_campaigns()
    rows = [(c, campaigns.campaign_progress(c)) for c in shown]
    live = [(c, p) for c, p in rows if campaigns.accepts_gifts(c)]
    other = [(c, p) for c, p in rows if not campaigns.accepts_gifts(c)]
    return render_template("campaigns/index.html", live=live, other=other)


@bp.get("/campaigns/<slug>/image")
@public
def image(slug: str):
    """Serve a campaign's image, with an ETag and a Cache-Control header."""
    found = campaigns.campaign_by_slug(slug)
    if found is None or (
        found.status == CampaignStatus.DRAFT and not current_user.is_authenticated
    ):
        abort(404)
    try:
        stored = campaigns.campaign_image(found)
    except NotFound:
        abort(404)
    response = make_response(stored.data)
    response.headers["Content-Type"] = stored.content_type
    response.headers["Cache-Control"] = f"public, max-age={IMAGE_MAX_AGE}"
    response.set_etag(stored.etag)
    return response.make_conditional(request)
