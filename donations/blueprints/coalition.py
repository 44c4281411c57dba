"""The coalition's shared public pages: what every member needs now."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request
from flask_login import current_user

from donations.authz import public
from donations.services import coalition

bp = Blueprint("coalition", __name__)

BOARD_MAX_AGE = 300  # seconds: a member's new need shows within five minutes


@bp.get("/coalition/needs")
@public
def needs():
    """List each member's urgent and regular needs, with a link to pledge to that member."""
    response = make_response(
        render_template("coalition/needs.html", members=coalition.coalition_needs())
    )
    if current_user.is_authenticated:
        response.cache_control.private = True
        response.cache_control.no_cache = True
    else:  # the same page for every visitor: nothing personal on it
        response.cache_control.public = True
        response.cache_control.max_age = BOARD_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)
