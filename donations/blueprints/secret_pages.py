"""Pages reached by a secret link (a donor's receipts, a volunteer's or a supporter's own
page): never cached, never indexed, and the link never sent on as a referrer."""

from __future__ import annotations

from flask import Response


def private(response: Response) -> Response:
    """Mark a response to a secret link: not cached, not indexed, no referrer."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
