"""The gifts CSV export at scale: a million gifts streamed from a fresh SQLite file.

Run by hand (``.venv/bin/python bench/bench_gifts_csv.py``; a minute or two).
Migrates a fresh database, bulk-inserts donors, funds, monthly plans, gifts
(Core ``executemany``) and receipts for some of them, then streams the gifts
CSV through the service generator (``exports.csv_chunks(exports.gift_rows())``,
not HTTP) and prints:

1. rows per second, against a target of 100,000, and beside the floor: a raw
   ``sqlite3`` fetch of the same gift columns with no formatting (ratio);
2. the peak of Python memory while streaming (a second run under tracemalloc,
   which is slower), to show it does not grow with the number of rows.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from _common import BIN, ROOT, bench_env
from sqlalchemy import insert

from donations import create_app
from donations.extensions import db
from donations.models import Donor, Fund, Gift, Receipt, RecurringPlan
from donations.services import exports
from donations.services.gifts import GiftFilters

TARGET_ROWS_PER_SECOND = 100_000
CHUNK = 50_000
RAW_QUERY = (
    "SELECT received_at, id, donor_id, amount_cents, fee_cents, dispute_fee_cents, "
    "refunded_cents, dispute_cents, currency, fund_id, method, frequency, status, is_reversal, "
    "dispute_status, stripe_payment_intent_id, stripe_charge_id, stripe_invoice_id, plan_id, "
    "is_anonymous FROM gifts ORDER BY id"
)


def load(gifts: int, donors: int, plans: int, receipts: int, seed: int) -> None:
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    conn = db.session.connection()
    conn.execute(
        insert(Fund.__table__),
        [{"id": i, "name": f"Fund {i}", "sort_order": i} for i in range(1, 6)],
    )
    conn.execute(
        insert(Donor.__table__),
        [
            {
                "id": i,
                "name": rng.choice(["=cmd", "Zoë Ångström", "Ada Lovelace", "Bo Li"]) + f" {i}",
                "email": f"donor{i}@example.com",
            }
            for i in range(1, donors + 1)
        ],
    )
    conn.execute(
        insert(RecurringPlan.__table__),
        [
            {
                "id": i,
                "donor_id": rng.randint(1, donors),
                "fund_id": 1,
                "amount_cents": 2500,
                "currency": "USD",
                "status": "active",
                "stripe_subscription_id": f"sub_{i}",
            }
            for i in range(1, plans + 1)
        ],
    )
    start = now - timedelta(days=3 * 365)
    span = int((now - start).total_seconds())
    for first in range(1, gifts + 1, CHUNK):
        rows = []
        for gift_id in range(first, min(first + CHUNK, gifts + 1)):
            online = gift_id % 3 != 0
            amount = rng.choice([500, 2500, 5000, 10_000, 25_000, 123_456])
            plan = rng.randint(1, plans) if online and gift_id % 5 == 0 else None
            rows.append(
                {
                    "id": gift_id,
                    "donor_id": rng.randint(1, donors),
                    "fund_id": rng.randint(1, 5),
                    "source": "online" if online else "offline",
                    "method": "card" if online else rng.choice(["cash", "cheque"]),
                    "frequency": "monthly" if plan else "one_time",
                    "status": "paid" if gift_id % 50 else "failed",
                    "currency": "USD",
                    "amount_cents": amount,
                    "fee_cents": amount * 29 // 1000 + 30 if online else 0,
                    "refunded_cents": amount if gift_id % 97 == 0 else 0,
                    "received_at": start + timedelta(seconds=rng.randrange(span)),
                    "plan_id": plan,
                    "is_anonymous": gift_id % 11 == 0,
                    "stripe_payment_intent_id": f"pi_{gift_id}" if online else None,
                    "stripe_charge_id": f"ch_{gift_id}" if online else None,
                    "stripe_invoice_id": f"in_{gift_id}" if plan else None,
                }
            )
        conn.execute(insert(Gift.__table__), rows)
    receipt_rows = []
    for n, gift_id in enumerate(rng.sample(range(1, gifts + 1), receipts), start=1):
        receipt_rows.append(
            {
                "number": f"2026-{n:06d}",
                "fiscal_year": 2026,
                "sequence_number": n,
                "kind": "cash",
                "status": "valid",
                "donor_id": 1,
                "gift_id": gift_id,
                "amount_cents": 5000,
                "currency": "USD",
                "verification_code": f"CODE{n:010d}",
                "content": "{}",
            }
        )
        if len(receipt_rows) == CHUNK:
            conn.execute(insert(Receipt.__table__), receipt_rows)
            receipt_rows = []
    if receipt_rows:
        conn.execute(insert(Receipt.__table__), receipt_rows)
    db.session.commit()


def stream() -> tuple[int, int]:
    """Stream the whole gifts CSV; return (data rows, characters)."""
    rows = chars = 0
    for chunk in exports.csv_chunks(exports.gift_rows(GiftFilters(status="all"))):
        chars += len(chunk)
        rows += chunk.count("\n")
    db.session.rollback()
    return rows - 1, chars


def raw_fetch(db_path: str) -> tuple[int, float]:
    con = sqlite3.connect(db_path)
    t0 = time.perf_counter()
    count = 0
    cursor = con.execute(RAW_QUERY)
    while batch := cursor.fetchmany(2_000):
        count += len(batch)
    seconds = time.perf_counter() - t0
    con.close()
    return count, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gifts", type=int, default=1_000_000)
    parser.add_argument("--donors", type=int, default=50_000)
    parser.add_argument("--plans", type=int, default=5_000)
    parser.add_argument("--receipts", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="donations-bench-") as tmp:
        db_path = os.path.join(tmp, "bench.sqlite3")
        env = bench_env(db_path)
        subprocess.run(
            [str(BIN / "flask"), "db", "upgrade"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
                "SECRET_KEY": env["SECRET_KEY"],
                "MAIL_SEND_AFTER_COMMIT": False,
                "SESSION_COOKIE_SECURE": False,
            }
        )
        with app.app_context():
            t0 = time.perf_counter()
            load(args.gifts, args.donors, args.plans, min(args.receipts, args.gifts), args.seed)
            print(
                f"loaded {args.gifts:,} gifts, {args.donors:,} donors, {args.plans:,} plans, "
                f"{args.receipts:,} receipts in {time.perf_counter() - t0:.1f} s"
            )

            raw_rows, raw_seconds = raw_fetch(db_path)
            print(
                f"raw sqlite3 fetch          : {raw_rows:,} rows in {raw_seconds:.2f} s "
                f"({raw_rows / raw_seconds:,.0f} rows/s)"
            )

            t0 = time.perf_counter()
            rows, chars = stream()
            seconds = time.perf_counter() - t0
            rate = rows / seconds
            verdict = "met" if rate >= TARGET_ROWS_PER_SECOND else "NOT met"
            print(
                f"gifts CSV, service stream  : {rows:,} rows, {chars / 1e6:.0f} MB of text "
                f"in {seconds:.2f} s = {rate:,.0f} rows/s "
                f"(target >= {TARGET_ROWS_PER_SECOND:,}: {verdict})"
            )
            print(f"  ratio to the raw fetch   : {seconds / raw_seconds:.1f} x")

            tracemalloc.start()
            stream()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"  peak Python memory       : {peak / 1e6:.1f} MB (tracemalloc, whole stream)")


if __name__ == "__main__":
    main()
