"""The security headers every response carries, and the one way a page may be framed.

Every page refuses to be framed twice over: ``frame-ancestors 'none'`` in its
Content-Security-Policy and ``X-Frame-Options: DENY`` for browsers that predate it. A view
that may be framed (only a campaign's compact form, ``give.campaign_embed``) sends its own
policy with ``frame_ancestors`` naming the sites allowed; such a response gets no
X-Frame-Options, which has no way to name sites and would override the policy in old
browsers.
"""

from __future__ import annotations

from flask import Response

FRAME_NONE = "'none'"
_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)


def content_security_policy(frame_ancestors: str = FRAME_NONE) -> str:
    """The site's Content-Security-Policy, with ``frame_ancestors`` as the framing sources."""
    return "; ".join([*_DIRECTIVES, f"frame-ancestors {frame_ancestors}"])


CONTENT_SECURITY_POLICY = content_security_policy()

SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


def allow_framing(response: Response, frame_ancestors: str) -> Response:
    """Let the sites in ``frame_ancestors`` (CSP source expressions, or ``'none'``) frame
    this response; every other security header stays as on any page."""
    response.headers["Content-Security-Policy"] = content_security_policy(frame_ancestors)
    return response


def add_security_headers(response: Response) -> Response:
    """Add the security headers a view has not set itself (a view's own header wins)."""
    headers = response.headers
    present = {key.lower() for key, _ in headers.items()}
    own_policy = headers.get("Content-Security-Policy", "")
    for key, value in SECURITY_HEADERS:
        if key.lower() in present:
            continue
        if key == "X-Frame-Options" and "frame-ancestors" in own_policy:
            continue  # the view's own policy says who may frame it
        headers.add(key, value)
    return response
