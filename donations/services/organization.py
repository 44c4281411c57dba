"""The organisation profile shown on pages and printed on receipts."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import current_app, g
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from donations.extensions import db, hold
from donations.models import Organization, User
from donations.money import is_currency_code
from donations.services.audit import describe_changes, record_audit, snapshot
from donations.services.embedding import check_embed_origins, frame_ancestors
from donations.services.errors import InvalidInput
from donations.services.org_slugs import free_slug
from donations.services.recipients import check_case_code_pattern
from donations.tenancy import HOME_ORGANIZATION_ID, current_organization_id

log = logging.getLogger(__name__)

DEFAULT_NAME = "Donations"
EIN_RE = re.compile(r"^\d{2}-\d{7}$")
US_NAMES = {"", "us", "usa", "u.s.", "u.s.a.", "united states", "united states of america"}

MAX_HOUR_VALUE = 100_000  # cents: an hour of volunteers' time valued above 1,000 is a slip
ORGANIZATION_FIELDS = (
    "legal_name",
    "tax_id",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "email",
    "website",
    "signatory_name",
    "signatory_title",
    "receipt_footer",
    "public_story",
    "default_currency",
    "fiscal_year_start_month",
    "require_two_factor",
    "case_code_pattern",
    "shares_figures",
    "host",
    "embed_origins",
    "volunteer_hour_value_cents",
)


def _check_host(host: str | None) -> str | None:
    """A host name for the current organisation's pages: one the server's settings allow
    (ORGANIZATION_HOSTS), not the first organisation's (it has the site's own address),
    not another organisation's. Blank: none."""
    host = (host or "").strip().lower() or None
    if host is None:
        return None
    if host not in current_app.config["ORGANIZATION_HOSTS"]:
        raise InvalidInput(
            "Choose one of the host names this server is set up for (ORGANIZATION_HOSTS).",
            field="host",
        )
    if current_organization_id() == HOME_ORGANIZATION_ID:
        raise InvalidInput(
            "The first organisation's pages are at the site's own address.", field="host"
        )
    taken = db.session.scalar(
        select(Organization.id).where(
            Organization.host == host, Organization.id != current_organization_id()
        )
    )
    if taken is not None:
        raise InvalidInput(f"Another organisation already uses {host}.", field="host")
    return host


def get_organization() -> Organization | None:
    """Return the current organisation's profile, or None before it is first saved."""
    return hold(db.session.get(Organization, current_organization_id()))


def letterhead() -> dict[str, Any]:
    """The organisation as a volunteer's letter heads it: its legal name, its own address
    (never a site's), its email and phone, and who signs; blanks where not set up."""
    org = get_organization()
    contact = (org.email, org.phone) if org else ()
    return {
        "organization_name": org.legal_name if org and org.legal_name else "",
        "organization_lines": org.address_lines if org else [],
        "organization_contact": " · ".join(part for part in contact if part),
        "signatory_name": org.signatory_name if org else "",
        "signatory_title": org.signatory_title if org else "",
    }


def embed_frame_ancestors() -> str:
    """The sites that may frame a campaign's compact form, as CSP ``frame-ancestors``
    sources: ``'none'`` until an admin lists some."""
    org = get_organization()
    return frame_ancestors(org.embed_origins if org is not None else "")


def current_organization_name() -> str:
    """Return the name to show in the page header, cached for the request."""
    if "org_name" not in g:
        try:
            org = get_organization()
        except SQLAlchemyError:  # an error page must still render
            log.exception("could not read the organisation profile")
            db.session.rollback()
            org = None
        g.org_name = org.legal_name if org and org.legal_name else DEFAULT_NAME
    return g.org_name


def remember_organization_name(legal_name: str) -> None:
    """Keep a name already read this request, so the page header needs no query of its own."""
    g.org_name = legal_name or DEFAULT_NAME


def _sync_id_sequence() -> None:
    """After a row with an id given outright, move PostgreSQL's id sequence past it, so the
    next organisation created (``flask orgs create``) takes the next id."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('organization', 'id'), "
                "(SELECT max(id) FROM organization))"
            )
        )


def normalize_ein(tax_id: str, *, country: str) -> str:
    """Return a US EIN as NN-NNNNNNN; other countries' ids are kept as typed.

    Raises InvalidInput for a malformed US EIN.
    """
    tax_id = tax_id.strip()
    if not tax_id or country.strip().lower() not in US_NAMES:
        return tax_id
    digits = tax_id.replace("-", "").replace(" ", "")
    if digits.isdigit() and len(digits) == 9:
        tax_id = f"{digits[:2]}-{digits[2:]}"
    if not EIN_RE.match(tax_id):
        raise InvalidInput("A US EIN has nine digits, written NN-NNNNNNN.", field="tax_id")
    return tax_id


def update_organization(*, actor: User | None, **fields: Any) -> Organization:
    """Create or change the organisation profile after checking its values."""
    unknown = set(fields) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown organisation fields: {sorted(unknown)}")
    values = {name: (v.strip() if isinstance(v, str) else v) for name, v in fields.items()}
    if not values.get("legal_name"):
        raise InvalidInput("Enter the organisation's legal name.", field="legal_name")
    if "default_currency" in values:
        values["default_currency"] = str(values["default_currency"]).upper()
        if not is_currency_code(values["default_currency"]):
            raise InvalidInput(
                "Enter a three-letter ISO 4217 currency code, such as USD or EUR.",
                field="default_currency",
            )
    if "fiscal_year_start_month" in values:
        month = values["fiscal_year_start_month"]
        if not isinstance(month, int) or not 1 <= month <= 12:
            raise InvalidInput("Choose a month from 1 to 12.", field="fiscal_year_start_month")
    if "require_two_factor" in values and not isinstance(values["require_two_factor"], bool):
        raise InvalidInput(
            "Choose whether two-step sign-in is required.", field="require_two_factor"
        )
    if "shares_figures" in values and not isinstance(values["shares_figures"], bool):
        raise InvalidInput(
            "Choose whether the coalition report shows your gift figures.",
            field="shares_figures",
        )
    if "volunteer_hour_value_cents" in values:
        value = values["volunteer_hour_value_cents"]
        if value is not None and (not isinstance(value, int) or not 0 <= value <= MAX_HOUR_VALUE):
            raise InvalidInput(
                "Enter the value of an hour as an amount, such as 34.50.",
                field="volunteer_hour_value",
            )
    if "host" in values:
        values["host"] = _check_host(values["host"])
    if "embed_origins" in values:
        values["embed_origins"] = check_embed_origins(values["embed_origins"])
    if "case_code_pattern" in values:
        values["case_code_pattern"] = check_case_code_pattern(values["case_code_pattern"])
    if "tax_id" in values:
        values["tax_id"] = normalize_ein(values["tax_id"], country=values.get("country", ""))

    org = get_organization()
    created = org is None
    if org is None:
        org = Organization(
            id=current_organization_id(),
            slug=free_slug(values["legal_name"]),
            legal_name=values["legal_name"],
            require_two_factor=current_app.config["TWO_FACTOR_REQUIRED_BY_DEFAULT"],
        )
        db.session.add(org)
        before: dict[str, Any] = {}
    else:
        before = snapshot(org, values.keys())
    for name, value in values.items():
        setattr(org, name, value)
    db.session.flush()
    if created:
        _sync_id_sequence()
    changes = describe_changes(before, snapshot(org, values.keys()))
    if created or changes:
        record_audit(
            actor=actor,
            action="organization.create" if created else "organization.update",
            object_type="organization",
            object_id=org.id,
            summary=changes,
        )
    g.pop("org_name", None)
    return org
