"""Bulk data for bench_scale.py: gifts, donors, a goods ledger, audit events and mail.

``build(size)`` adds, to a migrated database holding the demo data, ``size`` gifts over
ten years (1 donor per 20 gifts; mostly paid, some failed, refunded or disputed; cards,
cash, cheques and transfers; five funds), ``size`` ledger entries (documents of ten
lines over 1,000 items at 10 sites, never below zero, with the ``stock_levels`` rows
equal to the ledger's sums), ``size`` audit events and ``size // 2`` outgoing messages.
Rows go in with Core ``executemany`` in chunks, with explicit ids taken after the
existing ones, and the summary tables are then rebuilt from them
(``summaries.rebuild_all``); on PostgreSQL the id sequences are moved past them. Runs on
SQLite and PostgreSQL; deterministic for a seed.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, text

from donations.extensions import db
from donations.models import (
    AuditEvent,
    Donor,
    Fund,
    Gift,
    Item,
    ItemCategory,
    OutboxMessage,
    Site,
    StockDocument,
    StockEntry,
    StockLevel,
)
from donations.services import summaries
from donations.tenancy import ALL_ORGANIZATIONS

CHUNK = 20_000
YEARS = 10
ITEMS = 1_000
SITES = 10
ENTRIES_PER_DOCUMENT = 10
FIRST = ["Ada", "Bo", "Chen", "Dana", "Eli", "Fatima", "Grace", "Hugo", "Ines", "Jon", "Zoë"]
LAST = ["Lovelace", "Li", "Okafor", "Smith", "García", "Nguyen", "Ångström", "Brown", "Khan"]
AUDIT_KINDS = [
    ("gift", "gift.recorded"),
    ("gift", "gift.refunded"),
    ("donor", "donor.updated"),
    ("receipt", "receipt.issued"),
    ("stock_document", "stock.intake"),
    ("mail", "mail.requeued"),
    ("user", "user.signed_in"),
]
MAIL_KINDS = ["receipt", "gift_thanks", "goods_thanks", "instalment_failed", "low_stock"]
TABLES = [
    "donors",
    "gifts",
    "items",
    "sites",
    "stock_documents",
    "stock_entries",
    "stock_levels",
    "audit_events",
    "mail_outbox",
    "item_categories",
]


def _next_id(model) -> int:
    """The next free id of the table, every organisation's rows counted (ids are global)."""
    top = select(func.max(model.id)).execution_options(**{ALL_ORGANIZATIONS: True})
    return (db.session.scalar(top) or 0) + 1


def _insert(model, rows: Iterator[dict]) -> int:
    """Insert ``rows`` in chunks; return how many."""
    conn = db.session.connection()
    batch: list[dict] = []
    count = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            conn.execute(insert(model.__table__), batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(insert(model.__table__), batch)
        count += len(batch)
    return count


def _moment(rng: random.Random, start: datetime, span: int) -> datetime:
    return start + timedelta(seconds=rng.randrange(span))


def build(size: int, *, seed: int = 2026, finish: bool = True) -> dict[str, int]:
    """Add ``size`` gifts and ledger entries (and the rest) to the current organisation;
    return counts per kind. ``finish=False`` leaves the summary rebuild (which spans every
    organisation) to a later ``finish_load()``, for a build of several organisations."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365 * YEARS)
    span = int((now - start).total_seconds())
    counts = {
        "donors": _donors(rng, max(size // 20, 10), now),
        "gifts": _gifts(rng, size, start, span, now),
    }
    counts["ledger entries"] = _ledger(rng, size, now.date())
    counts["audit events"] = _audit(rng, size, start, span)
    counts["mail"] = _mail(rng, size // 2, start, span)
    db.session.commit()
    if finish:
        finish_load()
    return counts


def _donors(rng: random.Random, count: int, now: datetime) -> int:
    first_id = _next_id(Donor)
    return _insert(
        Donor,
        (
            {
                "id": first_id + n,
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}",
                "email": f"donor{first_id + n}@example.com" if n % 7 else None,
                "city": rng.choice(["Springfield", "Chatham", "Lyon", "Oslo", ""]),
                "is_organization": n % 25 == 0,
                "prefers_anonymous": n % 40 == 0,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(count)
        ),
    )


def _gifts(rng: random.Random, count: int, start: datetime, span: int, now: datetime) -> int:
    first_id = _next_id(Gift)
    donors = list(db.session.scalars(select(Donor.id)))
    funds = list(db.session.scalars(select(Fund.id)))

    def rows() -> Iterator[dict]:
        for n in range(count):
            gift_id = first_id + n
            online = n % 3 != 0
            amount = rng.choice([500, 2500, 5000, 10_000, 25_000, 123_456])
            status = "paid" if n % 40 else rng.choice(["failed", "expired", "pending"])
            refunded = amount if n % 97 == 0 else (amount // 2 if n % 211 == 0 else 0)
            disputed = online and status == "paid" and n % 503 == 0
            received = _moment(rng, start, span)
            yield {
                "id": gift_id,
                "donor_id": rng.choice(donors),
                "fund_id": rng.choice(funds),
                "source": "online" if online else "offline",
                "method": "card" if online else rng.choice(["cash", "cheque", "bank_transfer"]),
                "frequency": "monthly" if online and n % 5 == 0 else "one_time",
                "status": status,
                "currency": "USD",
                "amount_cents": amount,
                "fee_cents": amount * 29 // 1000 + 30 if online and status == "paid" else 0,
                "refunded_cents": refunded if status == "paid" else 0,
                "dispute_cents": amount if disputed else 0,
                "dispute_fee_cents": 1500 if disputed else 0,
                "dispute_status": "lost" if disputed else "",
                "received_at": received,
                "created_at": received,
                "updated_at": received,
                "is_anonymous": n % 11 == 0,
                "stripe_payment_intent_id": f"pi_scale_{gift_id}" if online else None,
                "stripe_charge_id": f"ch_scale_{gift_id}" if online else None,
                "cheque_number": str(1000 + n) if not online and n % 2 else "",
            }

    return _insert(Gift, rows())


def _catalog(now: datetime) -> tuple[list[int], list[int]]:
    conn = db.session.connection()
    conn.execute(
        insert(ItemCategory.__table__),
        [{"name": f"Scale category {c:02d}", "sort_order": 200 + c} for c in range(10)],
    )
    categories = list(
        db.session.scalars(select(ItemCategory.id).where(ItemCategory.name.like("Scale %")))
    )
    conn.execute(
        insert(Item.__table__),
        [
            {
                "category_id": categories[i % 10],
                "name": f"Scale item {i:04d}",
                "size": "",
                "unit": "each",
                "code": f"S-{i:04d}",
                "fair_value_currency": "USD",
                "is_kit": False,
                "active": True,
                "needs_pinned": False,
                "needs_hidden": False,
                "created_at": now,
            }
            for i in range(ITEMS)
        ],
    )
    conn.execute(
        insert(Site.__table__),
        [
            {
                "name": f"Scale site {s:02d}",
                "kind": "warehouse" if s == 0 else "shelter",
                "is_confidential": s != 0,
                "active": True,
                "created_at": now,
            }
            for s in range(SITES)
        ],
    )
    items = list(db.session.scalars(select(Item.id).where(Item.code.like("S-%")).order_by(Item.id)))
    sites = list(db.session.scalars(select(Site.id).where(Site.name.like("Scale site %"))))
    return items, sites


def _ledger(rng: random.Random, entries: int, today: date) -> int:
    """Documents of ten lines, oldest first, a stock level per (site, item) at the end."""
    now = datetime.now(UTC)
    items, sites = _catalog(now)
    first_doc = _next_id(StockDocument)
    first_day = today - timedelta(days=365 * YEARS)
    days = 365 * YEARS
    balance: dict[tuple[int, int], int] = defaultdict(int)
    documents: list[dict] = []
    lines: list[dict] = []
    written = n = 0
    while written < entries:
        day = first_day + timedelta(days=written * days // entries)
        site = rng.choice(sites)
        doc = {
            "id": first_doc + n,
            "kind": "intake",
            "effective_date": day,
            "recorded_at": datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
            "site_id": site,
            "source": "anonymous",
            "recipient": "",
        }
        moves: list[tuple[int, int]] = []
        if rng.random() < 0.5 or written < entries // 20:
            moves = [(item, rng.randint(5, 60)) for item in rng.sample(items, 10)]
        else:
            for item in rng.sample(items, 30):
                held = balance[(site, item)]
                if held > 0 and len(moves) < ENTRIES_PER_DOCUMENT:
                    moves.append((item, -min(held, rng.randint(1, 25))))
            if moves:
                doc.update(kind="distribution", source="", recipient="Scale program")
            else:
                moves = [(item, 10) for item in rng.sample(items, 10)]
        moves = moves[: entries - written]
        documents.append(doc)
        for item, quantity in moves:
            balance[(site, item)] += quantity
            lines.append(
                {
                    "document_id": doc["id"],
                    "item_id": item,
                    "site_id": site,
                    "quantity": quantity,
                    "effective_date": day,
                    "condition": "new" if quantity > 0 else "",
                }
            )
        written += len(moves)
        n += 1
        if len(lines) >= CHUNK:
            _insert(StockDocument, iter(documents))
            _insert(StockEntry, iter(lines))
            documents, lines = [], []
    _insert(StockDocument, iter(documents))
    _insert(StockEntry, iter(lines))
    _insert(
        StockLevel,
        (
            {"site_id": s, "item_id": i, "on_hand": q, "par_level": 0, "updated_at": now}
            for (s, i), q in sorted(balance.items())
        ),
    )
    return written


def _audit(rng: random.Random, count: int, start: datetime, span: int) -> int:
    """Audit events in time order (as the chain adds them); the hashes are placeholders."""
    first_id = _next_id(AuditEvent)
    step = span / max(count, 1)

    def rows() -> Iterator[dict]:
        for n in range(count):
            object_type, action = rng.choice(AUDIT_KINDS)
            yield {
                "id": first_id + n,
                "occurred_at": start + timedelta(seconds=int(n * step)),
                "actor_email": "admin@example.org" if n % 3 else None,
                "action": action,
                "object_type": object_type,
                "object_id": str(rng.randint(1, 50_000)),
                "summary": f"Scale event {n}",
                "prev_hash": "0" * 64,
                "hash": f"{n:064x}",
            }

    return _insert(AuditEvent, rows())


def _mail(rng: random.Random, count: int, start: datetime, span: int) -> int:
    first_id = _next_id(OutboxMessage)
    step = span / max(count, 1)

    def rows() -> Iterator[dict]:
        for n in range(count):
            created = start + timedelta(seconds=int(n * step))
            status = "sent" if n % 50 else rng.choice(["failed", "pending"])
            yield {
                "id": first_id + n,
                "created_at": created,
                "kind": rng.choice(MAIL_KINDS),
                "to_addr": f"donor{n % 5000}@example.com",
                "subject": f"Thank you for your gift #{n}",
                "body_text": "Dear donor,\n\nThank you.\n" * 5,
                "message_id": f"<scale-{first_id + n}@example.org>",
                "status": status,
                "attempts": 1 if status != "pending" else 0,
                "next_attempt_at": created,
                "sent_at": created if status == "sent" else None,
                "last_error": "550 mailbox unavailable" if status == "failed" else "",
            }

    return _insert(OutboxMessage, rows())


def finish_load() -> None:
    """Fill the summary tables from the rows inserted around the ORM; move PostgreSQL's id
    sequences past the inserted ids; gather planner statistics."""
    summaries.rebuild_all()
    db.session.commit()
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        for table in TABLES:
            if "id" not in db.metadata.tables[table].c:
                continue
            top = conn.execute(select(func.max(db.metadata.tables[table].c.id))).scalar()
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :top)"),
                {"table": table, "top": top or 1},
            )
    conn.execute(text("ANALYZE"))
    db.session.commit()
