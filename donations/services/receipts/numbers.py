"""Receipt numbers: gap-free per fiscal year (and per test series), and verification codes.

A number is taken from ``receipt_sequences`` in the same transaction as the
receipt row: the sequence row is made or counted up by one upsert, which locks it
(its row lock on PostgreSQL; SQLite's write lock, taken before), so two receipts never
share a number, and a rolled-back issue gives its number back, so there are no gaps.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from donations.extensions import db
from donations.models import AcknowledgementSequence, ReceiptSequence
from donations.services.locking import serialize_writes
from donations.services.payment_keys import stripe_settings
from donations.services.upsert import insert_for
from donations.tenancy import current_organization_id

LOCK_NAME = "receipts"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L

TEST_PREFIX = "TEST-"


def making_test_receipts() -> bool:
    """True when receipts made now are test receipts: the organisation is in test mode."""
    return stripe_settings().test_mode


def take_number(fiscal_year: int, *, is_test: bool = False) -> tuple[int, str]:
    """Take the next receipt number of a fiscal year; the caller's transaction keeps it.

    Test receipts count in their own series ("TEST-2026-000001"), so a live
    series never holds a test number.
    """
    serialize_writes(LOCK_NAME)
    dialect = db.session.get_bind().dialect.name
    insert = insert_for(dialect)
    table = ReceiptSequence.__table__
    # One statement makes the year's row or counts it up, and returns the number: the
    # row stays locked (PostgreSQL) or the database too (SQLite) until the caller ends.
    number = db.session.execute(
        insert(table)
        .values(
            organization_id=current_organization_id(),
            is_test=is_test,
            fiscal_year=fiscal_year,
            last_number=1,
        )
        .on_conflict_do_update(
            index_elements=[table.c.organization_id, table.c.is_test, table.c.fiscal_year],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    ).scalar_one()
    prefix = TEST_PREFIX if is_test else ""
    return number, f"{prefix}{fiscal_year}-{number:06d}"


def take_series_number(series: str, year: int) -> tuple[int, str]:
    """Take the next number of another acknowledgement series ("PB-2026-0001").

    The same mechanism as receipts: under the receipts' write lock, the year's row of
    the organisation's series is made if missing, locked and counted up in the
    caller's transaction, so a rolled-back issue gives its number back (no gaps) and
    two issues never share a number.
    """
    serialize_writes(LOCK_NAME)
    dialect = db.session.get_bind().dialect.name
    insert = insert_for(dialect)
    db.session.execute(
        insert(AcknowledgementSequence)
        .values(series=series, year=year, last_number=0)
        .on_conflict_do_nothing()
    )
    sequence = db.session.scalar(
        select(AcknowledgementSequence)
        .where(AcknowledgementSequence.series == series, AcknowledgementSequence.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    sequence.last_number += 1
    db.session.flush()
    return sequence.last_number, f"{series}-{year}-{sequence.last_number:04d}"


def new_verification_code() -> str:
    """Return a short code that is easy to read aloud: "K7QM-2XPA-9D"."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_code(code: str) -> str:
    raw = "".join(c for c in code.upper() if c.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == 10 else ""
