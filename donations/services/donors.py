"""Donors: search, create, edit, and merge duplicates into one record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select, update

from donations.extensions import db
from donations.models import Donor, User, utcnow
from donations.services.audit import describe_changes, record_audit, snapshot
from donations.services.errors import InvalidInput, NotAllowed, NotFound

DONOR_FIELDS = (
    "name",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "is_organization",
    "prefers_anonymous",
    "notes",
)
_ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def donor_search_query(*, text: str = "", include_merged: bool = False) -> Select[tuple[Donor]]:
    """Return donors whose name or email contains ``text``, by name."""
    query = select(Donor).order_by(Donor.name, Donor.id)
    if not include_merged:
        query = query.where(Donor.merged_into_id.is_(None))
    text = text.strip()
    if text:
        pattern = _like_pattern(text.lower())
        query = query.where(
            or_(
                Donor.name.ilike(pattern, escape="\\"),
                Donor.email.like(pattern, escape="\\"),
            )
        )
    return query


def lookup_donors_by_name(*, text: str, limit: int = 20) -> list[tuple[int, str, bool]]:
    """Return (id, name, is_organization) of donors whose name contains ``text``.

    For staff attaching a donor to goods: no address, email or notes.
    """
    text = text.strip()
    if not text:
        return []
    query = (
        select(Donor.id, Donor.name, Donor.is_organization)
        .where(Donor.merged_into_id.is_(None))
        .where(Donor.name.ilike(_like_pattern(text), escape="\\"))
        .order_by(Donor.name, Donor.id)
        .limit(limit)
    )
    return [(row.id, row.name, row.is_organization) for row in db.session.execute(query)]


def get_donor(donor_id: int) -> Donor:
    """Return the donor with this id (merged or not) or raise NotFound."""
    donor = db.session.get(Donor, donor_id)
    if donor is None:
        raise NotFound("No such donor.")
    return donor


def resolve_merged(donor: Donor) -> Donor:
    """Follow merges to the donor record that is in use now."""
    seen = set()
    while donor.merged_into_id is not None and donor.id not in seen:
        seen.add(donor.id)
        donor = get_donor(donor.merged_into_id)
    return donor


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(DONOR_FIELDS)
    if unknown:
        raise TypeError(f"unknown donor fields: {sorted(unknown)}")
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    if "name" in cleaned and not cleaned["name"]:
        raise InvalidInput("Enter the donor's name.", field="name")
    if "email" in cleaned:
        cleaned["email"] = (cleaned["email"] or "").lower() or None
    for name in (*_ADDRESS_FIELDS, "notes"):
        if name in cleaned and cleaned[name] is None:
            cleaned[name] = ""
    return cleaned


def create_donor(*, actor: User | None, name: str, **fields: Any) -> Donor:
    """Create a donor; optional fields are those of DONOR_FIELDS."""
    values = _clean({"name": name, **fields})
    donor = Donor(**values)
    db.session.add(donor)
    db.session.flush()
    record_audit(
        actor=actor,
        action="donor.create",
        object_type="donor",
        object_id=donor.id,
        summary=f"created {donor.name}",
    )
    return donor


def update_donor(*, actor: User | None, donor: Donor, **fields: Any) -> Donor:
    """Change a donor's details; notes changes are audited without their text."""
    if donor.merged_into_id is not None:
        raise NotAllowed("This donor was merged into another record; edit that one instead.")
    values = _clean(fields)
    before = snapshot(donor, values.keys())
    for name, value in values.items():
        setattr(donor, name, value)
    changes = describe_changes(before, snapshot(donor, values.keys()), redacted=("notes",))
    if changes:
        donor.updated_at = utcnow()
        db.session.flush()
        record_audit(
            actor=actor,
            action="donor.update",
            object_type="donor",
            object_id=donor.id,
            summary=changes,
        )
    return donor


def _foreign_keys_to_donors() -> list[tuple[Any, Any]]:
    """Return (table, column) for every column that references donors.id."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                if fk.column.table.name == Donor.__tablename__ and fk.column.name == "id":
                    found.append((table, column))
    return found


def merge_donors(*, actor: User | None, source: Donor, target: Donor) -> Donor:
    """Merge ``source`` into ``target``: everything attached to source moves to target.

    Blank details of the target are filled from the source; notes are joined.
    The source row is kept, marked as merged, so old links lead to the target.
    Returns the target.
    """
    if source.id == target.id:
        raise InvalidInput("Choose two different donors to merge.")
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise NotAllowed("One of these donors was already merged into another record.")

    moved: list[str] = []
    for table, column in _foreign_keys_to_donors():
        where = column == source.id
        if table.name == Donor.__tablename__:
            where = where & (table.c.id != target.id)
        result = db.session.execute(
            update(table).where(where).values({column.name: target.id}),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount:
            moved.append(f"{result.rowcount} {table.name}.{column.name}")

    filled = []
    for name in ("email", *_ADDRESS_FIELDS):
        if not getattr(target, name) and getattr(source, name):
            setattr(target, name, getattr(source, name))
            filled.append(name)
    if source.notes:
        header = f"[Merged from donor #{source.id}, {source.name}]"
        target.notes = f"{target.notes}\n\n{header}\n{source.notes}".strip()
    target.prefers_anonymous = target.prefers_anonymous or source.prefers_anonymous
    now = utcnow()
    target.updated_at = now
    source.merged_into_id = target.id
    source.merged_at = now
    db.session.flush()
    db.session.expire_all()

    summary = f"merged donor #{source.id} ({source.name}) into #{target.id} ({target.name})"
    if moved:
        summary += "; moved " + ", ".join(moved)
    if filled:
        summary += "; filled " + ", ".join(filled)
    record_audit(
        actor=actor, action="donor.merge", object_type="donor", object_id=target.id, summary=summary
    )
    record_audit(
        actor=actor,
        action="donor.merged_away",
        object_type="donor",
        object_id=source.id,
        summary=f"merged into donor #{target.id}",
    )
    return target
