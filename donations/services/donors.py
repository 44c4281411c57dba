"""Donors: search, create, edit, and merge duplicates into one record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, update

from donations.extensions import db
from donations.models import MAX_ROW_ID, AuditEvent, Donor, Gift, RecurringPlan, Role, User, utcnow
from donations.services import summaries
from donations.services.audit import audit_query, describe_changes, record_audit, snapshot
from donations.services.errors import InvalidInput, NotAllowed, NotFound
from donations.services.keyset import KeysetPage, Position, keyset_page
from donations.services.text import like_pattern

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
# Details a merge copies from the duplicate when the kept record has them blank.
MERGE_FILLED_FIELDS = ("email", *_ADDRESS_FIELDS)
# Notes are an unbounded Text column; this is the policy limit for one edit.
NOTES_MAX_LENGTH = 5000
HISTORY_LIMIT = 50  # audit entries shown on a donor's page
MAX_ID = MAX_ROW_ID


def _max_lengths() -> dict[str, int]:
    """Return the longest value each text field may hold, from the model's columns."""
    limits = {"notes": NOTES_MAX_LENGTH}
    for name in ("name", "email", *_ADDRESS_FIELDS):
        length = Donor.__table__.c[name].type.length
        if length:
            limits[name] = length
    return limits


MAX_LENGTHS = _max_lengths()


def donor_search_query(
    *, text: str = "", include_merged: bool = False, exclude_id: int | None = None
) -> Select[tuple[Donor]]:
    """Return donors whose name or email contains ``text``, by name.

    ``exclude_id`` leaves one donor out, such as the record a merge keeps.
    """
    query = select(Donor).order_by(Donor.name, Donor.id)
    if not include_merged:
        query = query.where(Donor.merged_into_id.is_(None))
    if exclude_id is not None:
        query = query.where(Donor.id != exclude_id)
    text = text.strip()
    if text:
        pattern = like_pattern(text.lower())
        query = query.where(
            or_(
                Donor.name.ilike(pattern, escape="\\"),
                Donor.email.like(pattern, escape="\\"),
            )
        )
    return query


# --- anonymity: who may see an anonymous donor's name --------------------------------

ANONYMOUS_DONOR = "Anonymous donor"
NAME_READERS = frozenset({Role.ADMIN, Role.TREASURER})


def sees_donor_names(role: str | None) -> bool:
    """Treasurers and admins see every donor's name; staff do not see anonymous donors'."""
    return role in NAME_READERS


def is_anonymous_condition() -> ColumnElement[bool]:
    """SQL: the donor asked not to be named, or gave a gift or monthly plan anonymously."""
    return or_(
        Donor.prefers_anonymous.is_(True),
        Donor.id.in_(select(Gift.donor_id).where(Gift.is_anonymous.is_(True))),
        Donor.id.in_(select(RecurringPlan.donor_id).where(RecurringPlan.is_anonymous.is_(True))),
    )


def anonymous_donor_ids() -> set[int]:
    """The ids of every anonymous donor (see ``is_anonymous_condition``)."""
    return set(db.session.scalars(select(Donor.id).where(is_anonymous_condition())))


def anonymous_label(donor_id: int) -> str:
    return f"{ANONYMOUS_DONOR} #{donor_id}"


def visible_name(*, donor: Donor, role: str | None) -> str:
    """The donor's name, or "Anonymous donor #id" when ``role`` may not see it."""
    if sees_donor_names(role):
        return donor.name
    anonymous = db.session.scalar(
        select(Donor.id).where(Donor.id == donor.id, is_anonymous_condition())
    )
    return anonymous_label(donor.id) if anonymous is not None else donor.name


def lookup_donors_by_name(
    *, text: str, limit: int = 20, show_names: bool = True
) -> list[tuple[int, str, bool]]:
    """Return (id, name, is_organization) of donors whose name contains ``text``.

    For staff attaching a donor to goods: no address, email or notes. With
    ``show_names`` off (staff), an anonymous donor is listed as "Anonymous
    donor #id", found only by "#id", never by a typed name.
    """
    text = text.strip()
    if not text:
        return []
    matches = Donor.name.ilike(like_pattern(text), escape="\\")
    if not show_names:
        # Staff find an anonymous donor by "#id" only: a hit on a typed name would tell
        # them that someone of that name gave, which is what anonymity withholds.
        matches = and_(matches, ~is_anonymous_condition())
    wanted_id = text.removeprefix("#").strip()
    if wanted_id.isdigit() and 0 < int(wanted_id) <= MAX_ID:
        matches = or_(matches, Donor.id == int(wanted_id))
    anonymous = is_anonymous_condition().label("anonymous")
    query = (
        select(Donor.id, Donor.name, Donor.is_organization, anonymous)
        .where(Donor.merged_into_id.is_(None))
        .where(matches)
        .limit(limit)
    )
    if not show_names:  # anonymous donors last, by id: a place among names hints at the name
        query = query.order_by(anonymous)
    query = query.order_by(Donor.name, Donor.id)
    named, hidden = [], []
    for row in db.session.execute(query):
        if row.anonymous and not show_names:
            hidden.append((row.id, anonymous_label(row.id), False))
        else:
            named.append((row.id, row.name, row.is_organization))
    return named + sorted(hidden)


def get_donor(donor_id: int) -> Donor:
    """Return the donor with this id (merged or not) or raise NotFound."""
    # An id no database integer can hold is simply not there (SQLite would raise).
    donor = db.session.get(Donor, donor_id) if 0 < donor_id <= MAX_ID else None
    if donor is None:
        raise NotFound(f"There is no donor #{donor_id}.")
    return donor


def find_donor(donor_id: int | None) -> Donor | None:
    """Return the donor with this id, merged or not, or None."""
    return db.session.get(Donor, donor_id) if donor_id else None


def donor_page(*, text: str, position: Position, per_page: int) -> KeysetPage:
    """Return one page of the donors list (or of a search), by name (keyset paged)."""
    return keyset_page(
        donor_search_query(text=text).order_by(None),
        (Donor.name, Donor.id),
        position=position,
        per_page=per_page,
        descending=False,
    )


def search_donors(*, text: str, limit: int) -> list[Donor]:
    """Return up to ``limit`` donors whose name or email matches ``text``."""
    return list(db.session.scalars(donor_search_query(text=text).limit(limit)))


def donor_history(donor: Donor, *, limit: int = HISTORY_LIMIT) -> list[AuditEvent]:
    """Return the latest audit entries about ``donor``."""
    return list(
        db.session.scalars(audit_query(object_type="donor", object_id=donor.id).limit(limit))
    )


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
    for name, limit in MAX_LENGTHS.items():
        value = cleaned.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise InvalidInput(f"Use at most {limit} characters.", field=name)
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


def check_mergeable(*, source: Donor, target: Donor) -> None:
    """Raise the domain error ``merge_donors`` would raise for this pair, if any."""
    if source.id == target.id:
        raise InvalidInput("Choose two different donors to merge.")
    for donor in (source, target):
        if donor.merged_into_id is not None:
            raise NotAllowed(
                f"Donor #{donor.id} ({donor.name}) was already merged into "
                f"donor #{donor.merged_into_id}."
            )
    if len(_joined_notes(source=source, target=target)) > NOTES_MAX_LENGTH:
        raise NotAllowed(
            f"Together the two donors' notes are longer than {NOTES_MAX_LENGTH} characters, "
            "the most a donor's notes may hold. Shorten one donor's notes first."
        )


def _joined_notes(*, source: Donor, target: Donor) -> str:
    """Return the target's notes followed by the source's, marked with where they came from."""
    if not source.notes:
        return target.notes
    header = f"[Merged from donor #{source.id}, {source.name}]"
    return f"{target.notes}\n\n{header}\n{source.notes}".strip()


def fields_filled_by_merge(*, source: Donor, target: Donor) -> list[str]:
    """Return the details of ``target`` that merging ``source`` into it would fill."""
    return [
        name for name in MERGE_FILLED_FIELDS if not getattr(target, name) and getattr(source, name)
    ]


def merge_donors(*, actor: User | None, source: Donor, target: Donor) -> Donor:
    """Merge ``source`` into ``target``: everything attached to source moves to target.

    Blank details of the target are filled from the source; notes are joined.
    The source row is kept, marked as merged, so old links lead to the target.
    Returns the target.
    """
    check_mergeable(source=source, target=target)

    moved: list[str] = []
    summaries.move_donor(source_id=source.id, target_id=target.id)
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

    filled = fields_filled_by_merge(source=source, target=target)
    for name in filled:
        setattr(target, name, getattr(source, name))
    target.notes = _joined_notes(source=source, target=target)
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
