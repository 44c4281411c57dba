"""Year-end statements at scale: 10,000 donors with a gift each, on SQLite.

Run by hand (``.venv/bin/python bench/bench_year_end.py``; several minutes).
Seeds a fresh, migrated database with bulk Core inserts (one gift per donor,
nine in ten with an email address), then measures, each run in a process of
its own on a copy of that database, with mail only queued (no MAIL_SERVER):

0. how much faster two processes are than one on this machine (pure CPU), the
   ceiling for any speed-up below;
1. the whole run (issue, render, queue mail) with ``workers=1`` (PDFs rendered
   in the main process) and ``workers=2`` (a pool of two): speed-up, target >= 1.6;
2. the main process's peak memory (``ru_maxrss``) at 1,000 and at 10,000
   donors: target within 20 %.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

from _common import BIN, ROOT, bench_env

TAX_YEAR = datetime.now(UTC).year - 1
CHUNK = 5_000


def seed(donors: int) -> None:
    """Child: the organisation, one fund and ``donors`` donors with one paid gift each."""
    from sqlalchemy import insert, select

    from donations import create_app
    from donations.extensions import db
    from donations.models import Donor, Fund, Gift
    from donations.services.organization import update_organization

    app = create_app()
    with app.app_context():
        update_organization(
            actor=None,
            legal_name="Harbor Light Shelter, Inc.",
            tax_id="12-3456789",
            address_line1="PO Box 4410",
            city="Springfield",
            region="IL",
            postal_code="62701",
            country="United States",
            default_currency="USD",
            fiscal_year_start_month=1,
        )
        db.session.add(Fund(name="General"))
        db.session.commit()
        fund_id = db.session.scalar(select(Fund.id))
        received = datetime(TAX_YEAR, 6, 15, 12, tzinfo=UTC)
        for first in range(0, donors, CHUNK):
            rows = range(first, min(first + CHUNK, donors))
            db.session.execute(
                insert(Donor),
                [
                    {
                        "name": f"Donor {n:05d} Ångström",
                        "email": None if n % 10 == 9 else f"donor{n}@example.com",
                        "address_line1": f"{n} Example Street",
                        "city": "Springfield",
                        "region": "IL",
                        "postal_code": "62701",
                    }
                    for n in rows
                ],
            )
        db.session.commit()
        donor_ids = list(db.session.scalars(select(Donor.id).order_by(Donor.id)))
        for first in range(0, len(donor_ids), CHUNK):
            db.session.execute(
                insert(Gift),
                [
                    {
                        "donor_id": donor_id,
                        "fund_id": fund_id,
                        "source": "offline",
                        "method": "cheque",
                        "cheque_number": str(1000 + i),
                        "status": "paid",
                        "currency": "USD",
                        "amount_cents": 2_500 + (i % 40) * 500,
                        "received_at": received,
                    }
                    for i, donor_id in enumerate(donor_ids[first : first + CHUNK], start=first)
                ],
            )
        db.session.commit()


def run(workers: int) -> None:
    """Child: one year-end run; print its figures as JSON."""
    from sqlalchemy import func, select

    from donations import create_app
    from donations.extensions import db
    from donations.jobs import year_end_run
    from donations.models import OutboxAttachment, Receipt
    from donations.services import year_end

    app = create_app()
    with app.app_context():
        started = year_end.start_run(actor=None, tax_year=TAX_YEAR)
        db.session.commit()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        result = year_end_run.run_year_end(started.id, workers=workers)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        statements = db.session.scalar(select(func.count()).select_from(Receipt))
        pdfs = db.session.scalar(select(func.count()).select_from(OutboxAttachment))
    print(
        json.dumps(
            {
                "seconds": seconds,
                "issued": result.issued,
                "emailed": result.emailed,
                "for_post": result.for_post,
                "statements": statements,
                "pdfs": pdfs,
                "maxrss_kb_before": rss_before,
                "maxrss_kb": peak,
            }
        )
    )


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def parallel_ceiling(n: int = 10_000_000) -> float:
    """What two processes gain over one on this machine, on pure CPU work (at most 2)."""
    from concurrent.futures import ProcessPoolExecutor

    t0 = time.perf_counter()
    _spin(n)
    _spin(n)
    serial = time.perf_counter() - t0
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [1000, 1000]))
        t0 = time.perf_counter()
        list(pool.map(_spin, [n, n]))
        parallel = time.perf_counter() - t0
    return serial / parallel


def _child(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        cwd=os.path.dirname(__file__),
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def prepared(tmp: str, donors: int) -> str:
    """A migrated, seeded database file; returns its path."""
    path = os.path.join(tmp, f"seed-{donors}.sqlite3")
    env = bench_env(path)
    subprocess.run(
        [str(BIN / "flask"), "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    _child(["--seed", str(donors)], env)
    return path


def measure(tmp: str, seeded: str, workers: int, tag: str) -> dict:
    path = os.path.join(tmp, f"run-{tag}.sqlite3")
    shutil.copyfile(seeded, path)
    figures = json.loads(_child(["--run", str(workers)], bench_env(path)).strip().splitlines()[-1])
    os.remove(path)
    shutil.rmtree(os.path.join(tmp, "mail"), ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--donors", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000, help="donors for the memory baseline")
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed is not None:
        return seed(args.seed)
    if args.run is not None:
        return run(args.run)

    ceiling = parallel_ceiling()
    print(
        f"CPUs: {os.cpu_count()}; two processes on pure CPU work run {ceiling:.2f}x one "
        f"(the most any speed-up here can be); tax year {TAX_YEAR}; mail queued, not sent"
    )
    with tempfile.TemporaryDirectory(prefix="donations-bench-") as tmp:
        big = prepared(tmp, args.donors)
        small = prepared(tmp, args.small)
        one = measure(tmp, big, 1, "w1")
        two = measure(tmp, big, 2, "w2")
        small_run = measure(tmp, small, 2, "small")
    for name, fig in ((f"{args.donors:,} donors, workers=1", one), ("workers=2", two)):
        print(
            f"{name:28} {fig['seconds']:7.1f} s  {args.donors / fig['seconds']:6.0f} donors/s  "
            f"issued {fig['issued']:,}, emailed {fig['emailed']:,}, post {fig['for_post']:,}, "
            f"PDFs {fig['pdfs']:,}"
        )
    speedup = one["seconds"] / two["seconds"]
    print(
        f"speed-up workers=2 / workers=1: {speedup:.2f}x (target >= 1.6; "
        f"{speedup / ceiling:.0%} of this machine's {ceiling:.2f}x ceiling)"
    )
    small_mb, big_mb = small_run["maxrss_kb"] / 1024, two["maxrss_kb"] / 1024
    growth = big_mb / small_mb - 1
    print(
        f"peak RSS of the main process: {small_mb:.0f} MB at {args.small:,} donors, "
        f"{big_mb:.0f} MB at {args.donors:,} ({growth:+.0%}, target within 20%)"
    )


if __name__ == "__main__":
    main()
