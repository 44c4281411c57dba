"""The gifts CSV export at scale: 100,000 and 1,000,000 gifts, rows per second and peak memory.

Run by hand (``.venv/bin/python bench/bench_gifts_csv.py``; a few minutes).
``DATABASE_URL`` names an empty database to fill (PostgreSQL too; see
``_measure.py``), else a throwaway SQLite file is used.

Fills the database with bulk ``INSERT ... SELECT`` over a counting CTE (no
explicit ids, so PostgreSQL's sequences stay right): 50,000 donors (names with
commas, quotes, accents and leading "="), 5 funds, 5,000 monthly plans, then
gifts in USD, EUR and JPY (card and offline, refunds, disputes, reversals,
failed ones, anonymous ones) with receipts for one in twenty (some voided and
reissued). At each size it streams the whole file, each run in a fresh process:

- the service: ``exports.gift_csv(...)``, what
  ``GET /reports/gifts.csv`` sends, encoded as UTF-8 as the response does;
- the baseline: the same bytes the plainest fast way, with the driver alone
  (``sqlite3`` / psycopg, a server-side cursor on PostgreSQL): one SELECT
  joining donors, funds, plans and receipts, each row formatted and written by
  ``csv.writer``;

and prints rows/s, the ratio, the growth of peak anonymous memory at 1M against
100k (the target; resident memory, VmHWM, is printed too: it also counts the
database file's pages read through SQLite's memory map, see ``_measure.py``),
and tracemalloc's peak. Both streams' bytes are compared
(SHA-256) once per size.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import time

from _measure import app_config, bench_database, child, measured, report, spread
from sqlalchemy import (
    BigInteger,
    String,
    case,
    cast,
    create_engine,
    func,
    insert,
    literal,
    literal_column,
)
from sqlalchemy import select as sa_select

from donations import create_app
from donations.extensions import db
from donations.models import Donor, Fund, Gift, Receipt, RecurringPlan
from donations.money import exponent
from donations.services import exports
from donations.services.gifts import GiftFilters
from donations.tenancy import HOME_ORGANIZATION_ID

TARGET_ROWS_PER_SECOND = 100_000
TARGET_MEMORY_GROWTH = 0.20
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- loading ---------------------------------------------------------------------


def numbers(first: int, last: int):
    """A CTE counting ``i`` from ``first`` to ``last``."""
    start = cast(literal_column(str(first)), BigInteger)  # no int4 overflow on PostgreSQL
    n = sa_select(start.label("i")).cte("n", recursive=True)
    return n.union_all(sa_select(n.c.i + 1).where(n.c.i < last))


def text(*parts) -> object:
    expr = literal("", String)
    for part in parts:
        expr = expr + (cast(part, String) if not isinstance(part, str) else literal(part, String))
    return expr


def timestamp(seconds, dialect: str):
    """2023-11-02 UTC plus ``seconds``, as each database stores a UTCDateTime."""
    if dialect == "postgresql":
        return literal_column("TIMESTAMPTZ '2023-11-02 00:00:00+00'") + seconds * literal_column(
            "INTERVAL '1 second'"
        )
    return func.datetime("2023-11-02 00:00:00", text("+", seconds, " seconds")) + literal(
        ".000000", String
    )


def load_people(donors: int, plans: int) -> None:
    conn = db.session.connection()
    conn.execute(
        insert(Fund.__table__),
        [{"name": name, "sort_order": n} for n, name in enumerate(
            ["General", "Shelter, meals", '"Warm" coats', "=Emergency", "Zoë's fund"]
        )],
    )  # fmt: skip
    n = numbers(1, donors)
    name = case(
        (n.c.i % 5 == 0, text("=cmd ", n.c.i)),
        (n.c.i % 5 == 1, text("Zoë Ångström ", n.c.i)),
        (n.c.i % 5 == 2, text("Lovelace, Ada ", n.c.i)),
        (n.c.i % 5 == 3, text('Bo "Bobby" Li ', n.c.i)),
        else_=text("Plain Donor ", n.c.i),
    )
    email = case((n.c.i % 17 == 0, None), else_=text("donor", n.c.i, "@example.com"))
    conn.execute(insert(Donor.__table__).from_select(["name", "email"], sa_select(name, email)))
    first_donor = db.session.scalar(sa_select(func.min(Donor.id)))
    first_fund = db.session.scalar(sa_select(func.min(Fund.id)))
    n = numbers(1, plans)
    conn.execute(
        insert(RecurringPlan.__table__).from_select(
            ["donor_id", "fund_id", "amount_cents", "currency", "status", "stripe_subscription_id"],
            sa_select(
                first_donor + (n.c.i * 7919) % donors,
                literal(first_fund),
                literal(2500),
                literal("USD"),
                literal("active"),
                text("sub_", n.c.i),
            ),
        )
    )
    db.session.commit()


def grow_gifts(first: int, last: int, donors: int, plans: int) -> None:
    """Add gifts numbered ``first`` to ``last``, and receipts for one in twenty."""
    dialect = db.session.get_bind().dialect.name
    conn = db.session.connection()
    first_donor = db.session.scalar(sa_select(func.min(Donor.id)))
    first_fund = db.session.scalar(sa_select(func.min(Fund.id)))
    first_plan = db.session.scalar(sa_select(func.min(RecurringPlan.id)))
    n = numbers(first, last)
    i = n.c.i
    online = i % 3 != 0
    reversal = (i % 3 == 0) & (i % 211 == 0)
    amount = case(
        (i % 6 == 0, 500), (i % 6 == 1, 2500), (i % 6 == 2, 5000),
        (i % 6 == 3, 10_000), (i % 6 == 4, 99), else_=123_456_789,
    )  # fmt: skip
    amount = cast(case((reversal, -amount), else_=amount), BigInteger)
    plan = case((online & (i % 5 == 0), first_plan + i % plans), else_=None)
    disputed = online & (i % 389 == 0)
    columns = {
        "donor_id": first_donor + (i * 2654435761) % donors,
        "fund_id": first_fund + i % 5,
        "source": case((online, "online"), else_="offline"),
        "method": case((online, "card"), (i % 2 == 0, "cash"), else_="cheque"),
        "frequency": case((online & (i % 5 == 0), "monthly"), else_="one_time"),
        "status": case((i % 50 == 0, "failed"), else_="paid"),
        "currency": case((i % 101 == 0, "JPY"), (i % 7 == 0, "EUR"), else_="USD"),
        "amount_cents": amount,
        "fee_cents": case((online, amount * 29 // 1000 + 30), else_=0),
        "refunded_cents": case(
            (online & (i % 97 == 0), amount), (online & (i % 89 == 0), 100), else_=0
        ),
        "dispute_cents": case((disputed & (i % 2 == 0), amount), else_=0),
        "dispute_fee_cents": case((disputed, 1500), else_=0),
        "dispute_status": case(
            (disputed & (i % 2 == 0), "lost"), (disputed, "needs_response"), else_=""
        ),
        "is_reversal": reversal,
        "is_anonymous": i % 11 == 0,
        "received_at": timestamp((i * 7919) % (3 * 365 * 86400), dialect),
        "plan_id": plan,
        "stripe_payment_intent_id": case((online, text("pi_", i)), else_=None),
        "stripe_charge_id": case((online, text("ch_", i)), else_=None),
        "stripe_invoice_id": case((online & (i % 5 == 0), text("in_", i)), else_=None),
    }
    conn.execute(insert(Gift.__table__).from_select(list(columns), sa_select(*columns.values())))
    last_id = db.session.scalar(sa_select(func.max(Gift.id)))
    first_id = last_id - (last - first)
    g = Gift.__table__.c
    picked = sa_select(g.id, g.donor_id, g.currency).where(
        g.id.between(first_id, last_id), g.id % 20 == 0, g.status == "paid", ~g.is_reversal
    )
    receipt_columns = [
        "number", "fiscal_year", "sequence_number", "kind", "status", "donor_id",
        "gift_id", "amount_cents", "currency", "verification_code", "content",
    ]  # fmt: skip
    for label, status, where in (("V", "valid", g.id % 400 != 0), ("X", "void", g.id % 400 == 0)):
        rows = picked.where(where).subquery()
        conn.execute(
            insert(Receipt.__table__).from_select(
                receipt_columns + (["voided_at"] if status == "void" else []),
                sa_select(
                    text(label, rows.c.id), literal(2026),
                    rows.c.id + (0 if label == "V" else 10**8),
                    literal("cash"), literal(status), rows.c.donor_id, rows.c.id, literal(5000),
                    rows.c.currency, text("C", label, rows.c.id), literal("{}"),
                    *([timestamp(literal(0), dialect)] if status == "void" else []),
                ),
            )
        )  # fmt: skip
    db.session.commit()


# --- the two ways of writing the file -------------------------------------------------


def service_stream(sink) -> int:
    rows = 0
    for chunk in exports.gift_csv(GiftFilters(status="all")):
        data = chunk.encode()
        rows += data.count(b"\n")
        sink(data)
    db.session.rollback()
    return rows - 1


BASELINE_SQL = """
SELECT {day}, g.id, g.donor_id, d.name, d.email, g.amount_cents, g.fee_cents,
  g.dispute_fee_cents, g.refunded_cents, g.dispute_cents, g.currency, f.name, g.method,
  g.frequency, g.status, g.is_reversal, g.dispute_status, g.stripe_payment_intent_id,
  g.stripe_charge_id, g.stripe_invoice_id, p.stripe_subscription_id,
  (SELECT MAX(CASE WHEN r.status = 'valid' THEN r.number ELSE '' END)
   FROM receipts r WHERE r.gift_id = g.id),
  g.is_anonymous, c.name, g.appeal_code
FROM gifts g
JOIN donors d ON d.id = g.donor_id
JOIN funds f ON f.id = g.fund_id
LEFT JOIN recurring_plans p ON p.id = g.plan_id
LEFT JOIN campaigns c ON c.id = g.campaign_id
WHERE g.organization_id = {organization}
ORDER BY g.id
"""
METHODS = {"card": "Card", "cash": "Cash", "cheque": "Cheque"}


def baseline_stream(url: str, sink) -> int:
    """The same file with the driver alone: one query, csv.writer, 2,000 rows a chunk."""
    if url.startswith("postgresql"):
        engine = create_engine(url)
        raw = engine.raw_connection()
        cursor = raw.driver_connection.cursor(name="bench")  # server-side
        day = "to_char(g.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    else:
        engine = create_engine(url)
        raw = engine.raw_connection()
        cursor = raw.driver_connection.cursor()
        day = "substr(g.received_at, 1, 10)"
    cursor.execute(BASELINE_SQL.format(day=day, organization=HOME_ORGANIZATION_ID))
    labels = exports.METHOD_LABELS

    def safe(value):
        if not value:
            return ""
        return "'" + value if value.startswith(FORMULA_START) else value

    def amount(cents: int, digits: int) -> str:
        if digits == 0:
            return str(cents)
        whole, frac = divmod(abs(cents), 10**digits)
        return f"{'-' if cents < 0 else ''}{whole}.{frac:0{digits}d}"

    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(exports.GIFTS_HEADER)
    rows = 0
    while batch := cursor.fetchmany(2_000):
        for (day_, gift_id, donor_id, name, email, gross, fee, dispute_fee, refunded, disputed,
             currency, fund, method, frequency, status, is_reversal, dispute_status, pi, ch, inv,
             sub, number, anonymous, campaign, appeal) in batch:  # fmt: skip
            digits = exponent(currency)
            returned = refunded + disputed
            writer.writerow([
                day_, gift_id, donor_id, safe(name), safe(email), amount(gross, digits),
                amount(fee + dispute_fee, digits), amount(returned, digits),
                amount(gross - fee - dispute_fee - returned, digits), currency, safe(fund),
                labels.get(method, method), exports.FREQUENCY_LABELS.get(frequency, frequency),
                exports.gift_status_label(status=status, is_reversal=bool(is_reversal),
                    amount_cents=gross, refunded_cents=refunded, dispute_status=dispute_status),
                pi or "", ch or "", inv or "", sub or "", number or "",
                "" if number is None else ("valid" if number else "void"),
                "yes" if anonymous else "no", safe(campaign), appeal or "",
            ])  # fmt: skip
        rows += len(batch)
        sink(out.getvalue().encode())
        out.seek(0)
        out.truncate()
    sink(out.getvalue().encode())
    cursor.close()
    raw.close()
    engine.dispose()
    return rows


def run_child(kind: str, url: str, hashed: bool, traced: bool) -> None:
    digest = hashlib.sha256()
    size = [0]

    def sink(data: bytes) -> None:
        size[0] += len(data)
        if hashed:
            digest.update(data)

    app = create_app(app_config(url))
    with app.app_context():
        # Connect, import and compile before measuring: an export matching no gift.
        for _ in exports.gift_csv(GiftFilters(status="all", donor_id=-1)):
            pass
        db.session.rollback()
        if traced:
            import tracemalloc

            tracemalloc.start()
        if kind == "service":
            result = measured(lambda: {"rows": service_stream(sink)})
        else:
            result = measured(lambda: {"rows": baseline_stream(url, sink)})
        if traced:
            result["traced_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
    result["bytes"] = size[0]
    if hashed:
        result["sha256"] = digest.hexdigest()
    report(result)


# --- the run ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000", help="gift counts, ascending")
    parser.add_argument("--donors", type=int, default=50_000)
    parser.add_argument("--plans", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=2, help="timed runs of each stream per size")
    parser.add_argument("--child", choices=["service", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--hashed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.url, args.hashed, args.traced)
        return
    sizes = [int(s) for s in args.sizes.split(",")]

    with bench_database() as (url, env):
        app = create_app(app_config(url))
        print(f"database: {url.split(':')[0]}")
        results: dict[int, dict[str, list[dict]]] = {}
        with app.app_context():
            if db.session.scalar(sa_select(func.count()).select_from(Gift)):
                sys.exit("DATABASE_URL must name an empty database: this one has gifts.")
            load_people(args.donors, args.plans)
        made = 0
        for size in sizes:
            with app.app_context():
                t0 = time.perf_counter()
                grow_gifts(made + 1, size, args.donors, args.plans)
                made = size
                print(
                    f"loaded {size:,} gifts in all ({time.perf_counter() - t0:.1f} s for this step)"
                )
                db.session.remove()
            service = child(
                "bench_gifts_csv.py", "--child", "service", "--url", url, "--hashed", env=env
            )
            baseline = child(
                "bench_gifts_csv.py", "--child", "baseline", "--url", url, "--hashed", env=env
            )
            same = service["sha256"] == baseline["sha256"]
            print(
                f"  {size:,} gifts: service and baseline bytes "
                f"{'identical' if same else 'DIFFER'} "
                f"({service['bytes'] / 1e6:.0f} MB, {service['rows']:,} rows)"
            )
            if not same or service["rows"] != size:
                sys.exit(1)
            runs: dict[str, list[dict]] = {"service": [], "baseline": []}
            for _ in range(args.runs):
                for kind in runs:
                    runs[kind].append(
                        child("bench_gifts_csv.py", "--child", kind, "--url", url, env=env)
                    )
            traced = child(
                "bench_gifts_csv.py", "--child", "service", "--url", url, "--traced", env=env
            )
            runs["traced"] = [traced]
            results[size] = runs
            rates = {
                k: [r["rows"] / r["seconds"] for r in v] for k, v in runs.items() if k != "traced"
            }
            ratio = [s / b for s, b in zip(rates["service"], rates["baseline"], strict=True)]
            verdict = "met" if min(rates["service"]) >= TARGET_ROWS_PER_SECOND else "NOT met"
            print(
                f"  gifts CSV, service : {spread(rates['service'])} rows/s "
                f"(target >= {TARGET_ROWS_PER_SECOND:,}: {verdict})"
            )
            print(f"  baseline, driver   : {spread(rates['baseline'])} rows/s")
            print(f"  ratio service/baseline: {', '.join(f'{r:.2f}' for r in ratio)}")
            rss = {k: spread([r["peak_rss_mb"] for r in runs[k]]) for k in ("service", "baseline")}
            anon = {
                k: spread([r["peak_anon_mb"] for r in runs[k]]) for k in ("service", "baseline")
            }
            print(
                f"  peak growth        : anonymous: service {anon['service']} MB, "
                f"baseline {anon['baseline']} MB; resident: service {rss['service']} MB, "
                f"baseline {rss['baseline']} MB; "
                f"tracemalloc peak (service) {traced['traced_mb']:.1f} MB"
            )
        if len(sizes) > 1:
            small, large = results[sizes[0]], results[sizes[-1]]
            for key, label in (
                ("peak_anon_mb", "peak anonymous memory growth"),
                ("peak_rss_mb", "peak resident growth (with the database's mapped pages)"),
                ("traced_mb", "tracemalloc peak"),
            ):
                source = "traced" if key == "traced_mb" else "service"
                a = min(r[key] for r in small[source])
                b = min(r[key] for r in large[source])
                growth = b / a - 1 if a else float("inf")
                verdict = "met" if growth <= TARGET_MEMORY_GROWTH else "NOT met"
                target = (
                    "for reference: the file's pages, not what the export holds"
                    if key == "peak_rss_mb"
                    else f"target within {TARGET_MEMORY_GROWTH:.0%}: {verdict}"
                )
                print(
                    f"memory, {label}: {b:.1f} MB at {sizes[-1]:,} vs {a:.1f} MB at "
                    f"{sizes[0]:,} ({growth:+.0%}; {target})"
                )


if __name__ == "__main__":
    main()
