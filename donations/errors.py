"""Friendly error pages in the site layout."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from donations.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The page could not understand that request."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: (
        "Page not found",
        "There is no page at this address. Check the link, or start again from the home page.",
    ),
    405: ("Not allowed", "That page cannot be used this way."),
    413: ("Too large", "What you sent is larger than this site accepts."),
    429: ("Too many attempts", "Too many tries in a short time. Wait a minute, then try again."),
    500: (
        "Something went wrong",
        "An unexpected error stopped this page. Nothing was saved. "
        "Try again, and tell an admin if it keeps happening.",
    ),
}


def render_error(code: int, message: str | None = None, link: tuple[str, str] | None = None):
    """Render the error page; ``link`` is (address, text) of the way on, if not the start page."""
    title, default = MESSAGES.get(code, ("Error", "Something went wrong."))
    page = render_template(
        "error.html", code=code, title=title, message=message or default, link=link
    )
    return page, code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            "This form had expired or was sent from somewhere else, so nothing was saved. "
            "Go back, reload the page and try again.",
        )

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError):
        # A Host header other than PUBLIC_BASE_URL's (TRUSTED_HOSTS): no URL can be
        # built for such a request, so a plain page without the site's layout.
        address = app.config["PUBLIC_BASE_URL"]
        body = f"Bad request: this site answers only at {address}\n"
        return body, 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code >= 500:
            return server_error(error)
        return render_error(error.code)

    @app.errorhandler(InternalServerError)
    def server_error(error):
        db.session.rollback()
        return render_error(500)
