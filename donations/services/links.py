"""Absolute links for mail, PDFs, QR codes and Stripe: always on PUBLIC_BASE_URL.

A request's Host header is never used: a request with ``Host: evil.example`` must not
mail a password-reset link to evil.example. Links made inside and outside a request
(year-end runs, mail workers) are the same.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request

from donations.services.org_slugs import organization_address, organization_path
from donations.tenancy import current_organization_id


def public_base_url() -> str:
    """The site's address in use, e.g. ``https://give.example.org`` (no trailing slash)."""
    return current_app.config["PUBLIC_BASE_URL"]


def absolute_url(endpoint: str, **values: Any) -> str:
    """Return the absolute URL of ``endpoint`` on PUBLIC_BASE_URL, with or without a request,
    at the current organisation's address."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    base = urlsplit(public_base_url())
    # The first organisation's pages are at the root; another's under /o/<slug>, or at
    # the root of the host name mapped to it (one the server's settings allow).
    host, path = organization_address(current_organization_id())
    netloc = base.netloc
    script_name = base.path.rstrip("/") + path
    if host is not None:
        netloc = host + (f":{base.port}" if base.port else "")
        script_name = path
    adapter = app.url_map.bind(
        netloc, script_name=script_name or "/", url_scheme=base.scheme, subdomain=""
    )
    app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


# Set by the address middleware: the SCRIPT_NAME before an organisation's /o/<slug>.
BASE_SCRIPT_NAME_KEY = "donations.base_script_name"


def organization_url(organization_id: int, endpoint: str, **values: Any) -> str:
    """The path of ``endpoint`` at another organisation's address (for the switcher and
    the sign-in redirect), on the same site as the request."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    root = ""
    if has_request_context():
        root = request.environ.get(BASE_SCRIPT_NAME_KEY, request.script_root)
    script_name = root.rstrip("/") + organization_path(organization_id)
    adapter = app.url_map.bind("localhost", script_name=script_name or "/")
    app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values)
