"""Organisations' secrets at rest: one encrypted row per organisation and name.

Each value is encrypted with the DATA_KEYS (``secret_box``) together with the organisation
and name it belongs to, so a token copied into another row does not open there. Callers
pass the organisation's id; ``rotate_secrets`` alone goes over every organisation's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, delete, select

from donations.extensions import db
from donations.models import OrganizationSecret, User, utcnow
from donations.services import secret_box
from donations.services.audit import record_audit
from donations.services.secret_box import SecretsUnavailable, SecretUnreadable


@dataclass(frozen=True)
class StoredSecret:
    """A stored value, opened; ``value`` is None when no key in DATA_KEYS opens it."""

    value: str | None
    updated_at: datetime


def _label(organization_id: int, name: str) -> str:
    return f"{organization_id}/{name}\n"


def _seal(organization_id: int, name: str, value: str) -> str:
    return secret_box.encrypt_text(_label(organization_id, name) + value)


def _open(row: OrganizationSecret | Row) -> str:
    text = secret_box.decrypt_text(row.ciphertext)
    label = _label(row.organization_id, row.name)
    if not text.startswith(label):
        raise SecretUnreadable(
            f"The stored {row.name} of organisation {row.organization_id} was encrypted for "
            "another organisation or name, so it is not used. Enter it again."
        )
    return text[len(label) :]


def _rows(organization_id: int) -> list[OrganizationSecret]:
    return list(
        db.session.scalars(
            select(OrganizationSecret).where(OrganizationSecret.organization_id == organization_id)
        )
    )


# The stored values of one organisation, read on every payment page and every webhook: a
# Core statement built once (the organisation written out, as the scoping hook would add
# it), run on the session's connection without loading ORM objects.
_VALUES = select(
    OrganizationSecret.organization_id, OrganizationSecret.name, OrganizationSecret.ciphertext
).where(OrganizationSecret.organization_id == bindparam("organization_id"))


def stored_names(*, organization_id: int) -> frozenset[str]:
    """The names the organisation has a secret stored under (nothing is opened)."""
    return frozenset(
        db.session.scalars(
            select(OrganizationSecret.name).where(
                OrganizationSecret.organization_id == organization_id
            )
        )
    )


def read_secrets(*, organization_id: int) -> dict[str, str]:
    """Return the organisation's stored secrets by name, opened.

    Raises SecretUnreadable when one cannot be opened, SecretsUnavailable when there is
    no key at all (a production site without DATA_KEYS).
    """
    rows = db.session.connection().execute(_VALUES, {"organization_id": organization_id})
    return {row.name: _open(row) for row in rows}


def inspect_secrets(*, organization_id: int) -> dict[str, StoredSecret]:
    """Like ``read_secrets`` but keeps going: a value that cannot be opened (no key opens
    it, or there is no key at all) is None, not an error."""
    found: dict[str, StoredSecret] = {}
    for row in _rows(organization_id):
        try:
            value: str | None = _open(row)
        except (SecretUnreadable, SecretsUnavailable):
            value = None
        found[row.name] = StoredSecret(value=value, updated_at=row.updated_at)
    return found


def write_secrets(*, organization_id: int, values: dict[str, str]) -> None:
    """Store each value under its name (a blank value removes the row); flush."""
    rows = {row.name: row for row in _rows(organization_id)}
    now = utcnow()
    for name, value in values.items():
        row = rows.get(name)
        if not value:
            if row is not None:
                db.session.delete(row)
            continue
        ciphertext = _seal(organization_id, name, value)
        if row is None:
            db.session.add(
                OrganizationSecret(
                    organization_id=organization_id,
                    name=name,
                    ciphertext=ciphertext,
                    updated_at=now,
                )
            )
        else:
            row.ciphertext = ciphertext
            row.updated_at = now
    db.session.flush()


def delete_secrets(*, organization_id: int, names: tuple[str, ...]) -> int:
    """Remove the organisation's secrets of these names; return how many there were."""
    result = db.session.execute(
        delete(OrganizationSecret).where(
            OrganizationSecret.organization_id == organization_id,
            OrganizationSecret.name.in_(names),
        )
    )
    return result.rowcount or 0


@dataclass(frozen=True)
class Rotation:
    rotated: int  # re-encrypted with the newest key now
    current: int  # already encrypted with it: left as they were


def rotate_secrets(*, actor: User | None = None) -> Rotation:
    """Re-encrypt every stored secret, of every organisation, with the newest DATA_KEYS key.

    Rows the newest key already opens are left alone, so running it again changes nothing.
    Raises SecretUnreadable, naming the row, when a secret opens with none of the keys;
    the caller's transaction then rolls back and nothing is re-encrypted.
    """
    # Every organisation's rows on purpose: the keys belong to the site, not to one of them.
    rows = db.session.scalars(
        select(OrganizationSecret).order_by(
            OrganizationSecret.organization_id, OrganizationSecret.name
        )
    ).all()
    rotated = current = 0
    for row in rows:
        if secret_box.is_current(row.ciphertext):
            current += 1
            continue
        try:
            row.ciphertext = secret_box.rotate_token(row.ciphertext)
        except SecretUnreadable:
            raise SecretUnreadable(
                f"The stored {row.name} of organisation {row.organization_id} opens with none "
                "of the keys in DATA_KEYS, so nothing was re-encrypted. Put the key it was "
                "encrypted with back at the end of DATA_KEYS and run this again."
            ) from None
        rotated += 1
    db.session.flush()
    if rotated:
        record_audit(
            actor=actor,
            action="organization_secrets.rotate",
            object_type="organization_secrets",
            object_id="all",
            summary=f"re-encrypted {rotated} stored secrets with the newest key",
        )
    return Rotation(rotated=rotated, current=current)
