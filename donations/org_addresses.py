"""Each organisation's addresses: ``/o/<slug>/…`` for the organisations after the first,
the root paths for the first (so its existing links and QR codes keep working).

``OrgPathMiddleware`` moves ``/o/<slug>`` from the path into ``SCRIPT_NAME``: every
route then answers under the prefix unchanged, and ``url_for`` builds links that stay
under it. ``resolve_organization`` (the first ``before_request`` hook) makes the slug's
organisation the current one (``donations.tenancy``); an unknown or archived slug is a
404. Signed-in pages answer there for the organisation's members (``donations.authz``
checks the membership); to anyone else they do not exist.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, current_app, g, request
from werkzeug.wsgi import get_host

from donations.services.links import BASE_SCRIPT_NAME_KEY
from donations.services.organizations import find_organization, find_organization_by_host
from donations.tenancy import set_organization

PREFIX_RE = re.compile(r"^/o/([a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9]))(/.*)?$")
SLUG_KEY = "donations.organization_slug"


class OrgPathMiddleware:
    """WSGI: ``/o/<slug>/rest`` becomes ``SCRIPT_NAME + /o/<slug>`` and ``/rest``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/o/"):
            match = PREFIX_RE.match(path)
            if match is not None:
                slug, rest = match.group(1), match.group(2) or "/"
                environ[SLUG_KEY] = slug
                environ[BASE_SCRIPT_NAME_KEY] = environ.get("SCRIPT_NAME", "")
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + "/o/" + slug
                environ["PATH_INFO"] = rest
        return self.app(environ, start_response)


def resolve_organization() -> None:
    """Make the organisation the address names the current one (the first at the root)."""
    slug = request.environ.get(SLUG_KEY)
    if slug is None:
        hosts = current_app.config["ORGANIZATION_HOSTS"]
        if not hosts:
            return
        # Checked against TRUSTED_HOSTS (the site's and these): another is a 400.
        host = get_host(request.environ, trusted_hosts=current_app.config["TRUSTED_HOSTS"])
        hostname = host.rsplit(":", 1)[0].lower()
        if hostname not in hosts:
            return
        org = find_organization_by_host(hostname)
    else:
        org = find_organization(slug)
    if org is None or org.archived_at is not None:
        abort(404)
    set_organization(org.id)
    g.organization_slug = org.slug
