"""The goods ledger at scale: a million entries over 1,000 items at 10 sites, on SQLite.

Run by hand (``.venv/bin/python bench/bench_inventory.py``; a few minutes).
Loads the ledger into a fresh, migrated database with bulk Core inserts, sets
the balances to the ledger's sums and checks them with ``verify_balances``,
then measures in the same run:

1. the stock page (GET /inventory/, signed in, first page and a filtered
   page) beside a raw ``SELECT * FROM stock_levels`` fetch: ratio, target <= 2;
2. movements recorded per second through the service layer (intakes and
   distributions, each committed);
3. stock at one site as of a past date (``inventory.stock_as_of``);
4. the ledger CSV export streamed in full, with the process's memory growth;

and finally verifies every balance again after the recorded movements.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from _common import instance
from sqlalchemy import func, insert, select

from donations import create_app
from donations.extensions import db
from donations.models import (
    Item,
    ItemCategory,
    Site,
    StockDocument,
    StockEntry,
    StockLevel,
    User,
)
from donations.services import inventory, user_sessions

ENTRIES_PER_DOCUMENT = 10
CHUNK_DOCUMENTS = 10_000
RAW_QUERY = "SELECT * FROM stock_levels"


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# --- loading -------------------------------------------------------------------


def load_catalog(items: int, sites: int) -> tuple[list[int], list[int]]:
    """Add 10 categories, ``items`` items and ``sites`` sites beside the demo's."""
    conn = db.session.connection()
    conn.execute(
        insert(ItemCategory.__table__),
        [{"name": f"Bench category {c:02d}", "sort_order": 100 + c} for c in range(10)],
    )
    categories = list(
        db.session.scalars(select(ItemCategory.id).where(ItemCategory.name.like("Bench %")))
    )
    now = datetime.now(UTC)
    conn.execute(
        insert(Item.__table__),
        [
            {
                "category_id": categories[i % 10],
                "name": f"Bench item {i:04d}",
                "size": "",
                "unit": "each",
                "code": f"B-{i:04d}",
                "fair_value_currency": "USD",
                "is_kit": False,
                "active": True,
                "needs_pinned": False,
                "needs_hidden": False,
                "created_at": now,
            }
            for i in range(1, items + 1)
        ],
    )
    conn.execute(
        insert(Site.__table__),
        [
            {
                "name": f"Bench site {s:02d}",
                "kind": "warehouse" if s == 1 else "shelter",
                "is_confidential": s != 1,
                "active": True,
                "created_at": now,
            }
            for s in range(1, sites + 1)
        ],
    )
    db.session.commit()
    item_ids = list(db.session.scalars(select(Item.id).where(Item.code.like("B-%"))))
    site_ids = list(db.session.scalars(select(Site.id).where(Site.name.like("Bench site %"))))
    return item_ids, site_ids


def load_ledger(
    entries: int, item_ids: list[int], site_ids: list[int], seed: int
) -> dict[tuple[int, int], int]:
    """Append documents of up to ten entries until there are ``entries``; return the balances."""
    rng = random.Random(seed)
    first_day = date.today() - timedelta(days=360)
    balance: dict[tuple[int, int], int] = defaultdict(int)
    first_id = (db.session.scalar(select(func.max(StockDocument.id))) or 0) + 1
    conn = db.session.connection()
    doc_rows: list[dict] = []
    entry_rows: list[dict] = []

    def flush() -> None:
        if doc_rows:
            conn.execute(insert(StockDocument.__table__), doc_rows)
            conn.execute(insert(StockEntry.__table__), entry_rows)
            doc_rows.clear()
            entry_rows.clear()

    written = n = 0
    while written < entries:
        doc_id = first_id + n
        n += 1
        day = first_day + timedelta(days=written * 360 // entries)
        recorded = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        site = rng.choice(site_ids)
        roll = rng.random() if written > entries // 20 else 0.0  # stock up first
        doc = {
            "id": doc_id,
            "effective_date": day,
            "recorded_at": recorded,
            "site_id": site,
            "to_site_id": None,
            "source": "",
            "drive_name": "",
            "recipient": "",
            "case_code": "",
            "reason": "",
            "note": "",
        }
        moves: list[tuple[int, int, int, str]] = []  # item, site, quantity, condition
        if roll < 0.45:
            doc["kind"] = "intake"
            doc["source"] = "drive" if rng.random() < 0.3 else "anonymous"
            doc["drive_name"] = "Bench drive" if doc["source"] == "drive" else ""
            for item in rng.sample(item_ids, ENTRIES_PER_DOCUMENT):
                moves.append((item, site, rng.randint(5, 60), "new"))
        else:
            kind = "distribution" if roll < 0.85 else ("transfer" if roll < 0.95 else "adjustment")
            to_site = rng.choice([s for s in site_ids if s != site])
            per_item = 2 if kind == "transfer" else 1
            wanted = ENTRIES_PER_DOCUMENT // per_item
            for item in rng.sample(item_ids, wanted * 3):
                if len(moves) >= ENTRIES_PER_DOCUMENT:
                    break
                held = balance[(site, item)]  # items in a sample are distinct
                if held <= 0:
                    continue
                quantity = min(held, rng.randint(1, 25))
                moves.append((item, site, -quantity, ""))
                if kind == "transfer":
                    moves.append((item, to_site, quantity, ""))
            if not moves:  # nothing on the shelf here yet: an intake instead
                kind = "intake"
                doc["source"] = "anonymous"
                moves = [(i, site, 10, "new") for i in rng.sample(item_ids, 10)]
            doc["kind"] = kind
            if kind == "distribution":
                doc["recipient"] = "Bench program"
            elif kind == "transfer":
                doc["to_site_id"] = to_site
            elif kind == "adjustment":
                doc["reason"] = "damaged"
        moves = moves[: entries - written]
        written += len(moves)
        doc_rows.append(doc)
        for item, move_site, quantity, condition in moves:
            balance[(move_site, item)] += quantity
            entry_rows.append(
                {
                    "document_id": doc_id,
                    "item_id": item,
                    "site_id": move_site,
                    "quantity": quantity,
                    "effective_date": day,
                    "condition": condition,
                    "counted_quantity": None,
                }
            )
        if len(doc_rows) >= CHUNK_DOCUMENTS:
            flush()
    flush()
    db.session.commit()
    return balance


def load_levels(balance: dict[tuple[int, int], int]) -> None:
    """Set the balances to the ledger's sums, with a par level on a third of the rows."""
    now = datetime.now(UTC)
    rows = [
        {
            "site_id": site,
            "item_id": item,
            "on_hand": on_hand,
            "par_level": (item * 7 + site * 13) % 300 if (item + site) % 3 == 0 else 0,
            "updated_at": now,
        }
        for (site, item), on_hand in sorted(balance.items())
    ]
    db.session.connection().execute(insert(StockLevel.__table__), rows)
    db.session.commit()


# --- measurements --------------------------------------------------------------


def signed_in_client(app):
    staff = db.session.scalar(select(User).where(User.email == "staff@example.org"))
    session_id = user_sessions.start_session(user=staff)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def measure_pages(app, repeat: int) -> dict[str, float]:
    """Median times of the two stock pages and the raw fetch, taken in turn each round."""
    client = signed_in_client(app)
    site = db.session.scalar(select(Site.id).where(Site.name == "Bench site 03"))
    raw_conn = db.engine.raw_connection()

    def get(path: str) -> Callable[[], None]:
        def run() -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} answered {response.status_code}")

        return run

    def raw_fetch() -> None:
        cursor = raw_conn.cursor()
        cursor.execute(RAW_QUERY)
        cursor.fetchall()
        cursor.close()

    runs = {
        "first": get("/inventory/"),
        "filtered": get(f"/inventory/?site={site}&q=item+01&show=held"),
        "raw": raw_fetch,
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for fn in runs.values():  # warm up
        fn()
    for _ in range(repeat):  # alternate, so drift hits all three alike
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    raw_conn.close()
    return {name: statistics.median(values) for name, values in times.items()}


def stream_ledger(client) -> tuple[int, int]:
    response = client.get("/inventory/export/ledger.csv", buffered=False)
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return size, lines - 1


def measure_export(app) -> tuple[float, int, int, float]:
    """Stream the whole ledger CSV; return (seconds, bytes, rows, peak traced MB).

    The time comes from a plain pass; the memory from a second pass under
    tracemalloc (slower), whose peak counts every Python allocation made
    while streaming.
    """
    client = signed_in_client(app)
    t0 = time.perf_counter()
    size, rows = stream_ledger(client)
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    stream_ledger(client)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, size, rows, peak / 1e6


def measure_movements(
    count: int, item_ids: list[int], site_ids: list[int], seed: int
) -> tuple[float, int]:
    """Record intakes and distributions through the services, each committed."""
    rng = random.Random(seed)
    actor = db.session.scalar(select(User).where(User.email == "staff@example.org"))
    on_hand = {
        (s, i): q
        for s, i, q in db.session.execute(
            select(StockLevel.site_id, StockLevel.item_id, StockLevel.on_hand)
        )
    }
    today = date.today()
    lines_total = 0
    t0 = time.perf_counter()
    for n in range(count):
        site = rng.choice(site_ids)
        items = rng.sample(item_ids, rng.randint(1, 3))
        if n % 2 == 0:
            lines = [inventory.Line(i, rng.randint(1, 20), "new") for i in items]
            inventory.record_intake(
                actor=actor,
                site_id=site,
                effective_date=today,
                source="anonymous",
                lines=lines,
            )
            for line in lines:
                on_hand[(site, line.item_id)] = on_hand.get((site, line.item_id), 0) + line.quantity
        else:
            lines = [
                inventory.Line(i, min(on_hand.get((site, i), 0), rng.randint(1, 5)))
                for i in items
                if on_hand.get((site, i), 0) > 0
            ]
            if not lines:
                lines = [inventory.Line(items[0], 1, "new")]
                inventory.record_intake(
                    actor=actor, site_id=site, effective_date=today, source="anonymous", lines=lines
                )
                on_hand[(site, items[0])] = on_hand.get((site, items[0]), 0) + 1
            else:
                inventory.record_distribution(
                    actor=actor,
                    site_id=site,
                    effective_date=today,
                    recipient="Bench program",
                    lines=lines,
                )
                for line in lines:
                    on_hand[(site, line.item_id)] -= line.quantity
        db.session.commit()
        lines_total += len(lines)
    return time.perf_counter() - t0, lines_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=1_000)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--movements", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per page")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    with instance() as (env, db_path):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
                "SECRET_KEY": env["SECRET_KEY"],
                "MAIL_SEND_AFTER_COMMIT": False,
                "SESSION_COOKIE_SECURE": False,
                "PUBLIC_BASE_URL": "http://localhost",  # the test client's host
            }
        )
        with app.app_context():
            t0 = time.perf_counter()
            item_ids, site_ids = load_catalog(args.items, args.sites)
            balance = load_ledger(args.entries, item_ids, site_ids, args.seed)
            load_levels(balance)
            load_seconds = time.perf_counter() - t0
            entries = db.session.scalar(select(func.count()).select_from(StockEntry))
            documents = db.session.scalar(select(func.count()).select_from(StockDocument))
            levels = db.session.scalar(select(func.count()).select_from(StockLevel))
            print(
                f"loaded {entries:,} entries in {documents:,} documents, {levels:,} balances "
                f"({args.items:,} items x {args.sites} sites) in {load_seconds:.1f} s"
            )
            t0 = time.perf_counter()
            problems = inventory.verify_balances()
            verify_seconds = time.perf_counter() - t0
            print(
                f"verify_balances            : {verify_seconds * 1000:8.0f} ms, "
                f"{'all balances match' if not problems else f'{len(problems)} DIFFER'}"
            )
            if problems:
                raise SystemExit(1)

            pages = measure_pages(app, args.repeat)
            print(f"stock page, first page     : {pages['first'] * 1000:8.1f} ms (median)")
            print(f"stock page, filtered       : {pages['filtered'] * 1000:8.1f} ms (median)")
            print(f"raw {RAW_QUERY} ({levels:,} rows): {pages['raw'] * 1000:.1f} ms (median)")
            for name in ("first", "filtered"):
                ratio = pages[name] / pages["raw"]
                verdict = "met" if ratio <= 2 else "NOT met"
                print(f"  ratio {name:8}: {ratio:6.2f} x the raw fetch (target <= 2: {verdict})")

            site = site_ids[len(site_ids) // 2]
            day = date.today() - timedelta(days=180)
            result: list = []

            def as_of() -> None:
                db.session.expire_all()
                result[:] = inventory.stock_as_of(site_id=site, day=day)

            as_of_seconds = timed(as_of, 5)
            print(
                f"stock_as_of one site, {day.isoformat()}: {as_of_seconds * 1000:8.1f} ms "
                f"({len(result):,} items held; median of 5)"
            )

            export_seconds, size, rows, peak = measure_export(app)
            print(
                f"ledger CSV export (all)    : {rows:,} rows, {size / 1e6:.0f} MB in "
                f"{export_seconds:.1f} s ({rows / export_seconds:,.0f} rows/s); "
                f"peak Python memory while streaming {peak:.1f} MB"
            )

            seconds, lines = measure_movements(args.movements, item_ids, site_ids, args.seed)
            print(
                f"movements through services: {args.movements / seconds:8.1f} documents/s "
                f"({args.movements:,} intakes and distributions of {lines:,} lines, "
                f"each committed, in {seconds:.1f} s)"
            )

            db.session.remove()
            runner = app.test_cli_runner()
            t0 = time.perf_counter()
            outcome = runner.invoke(args=["inventory", "verify"])
            print(
                f"flask inventory verify     : {outcome.output.strip()} "
                f"({time.perf_counter() - t0:.1f} s, exit code {outcome.exit_code})"
            )
            if outcome.exit_code:
                raise SystemExit(1)


if __name__ == "__main__":
    main()
