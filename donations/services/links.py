"""Absolute links for mail, PDFs, QR codes and Stripe: always on PUBLIC_BASE_URL.

A request's Host header is never used: a request with ``Host: evil.example`` must not
mail a password-reset link to evil.example. Links made inside and outside a request
(year-end runs, mail workers) are the same.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from donations.services.org_slugs import organization_path
from donations.tenancy import current_organization_id


def public_base_url() -> str:
    """The site's address in use, e.g. ``https://give.example.org`` (no trailing slash)."""
    return current_app.config["PUBLIC_BASE_URL"]


def absolute_url(endpoint: str, **values: Any) -> str:
    """Return the absolute URL of ``endpoint`` on PUBLIC_BASE_URL, with or without a request,
    at the current organisation's address."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    base = urlsplit(public_base_url())
    # The first organisation's pages are at the root; another's under /o/<slug>.
    script_name = base.path.rstrip("/") + organization_path(current_organization_id())
    adapter = app.url_map.bind(
        base.netloc, script_name=script_name or "/", url_scheme=base.scheme, subdomain=""
    )
    app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)
