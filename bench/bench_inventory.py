"""The goods ledger at scale: a million entries over 1,000 items at 10 sites.

Run by hand (``.venv/bin/python bench/bench_inventory.py``; a few minutes).
``DATABASE_URL`` names an empty database to fill (PostgreSQL too; see
``_measure.py``), else a throwaway SQLite file is used. Loads the demo, then
the ledger with bulk Core inserts (document ids chosen here, so PostgreSQL's
sequence is set past them after), sets the balances to the ledger's sums and
checks them with ``verify_balances``, then measures in the same run:

1. the ledger CSV export (``inventory_files.ledger_csv``, what
   ``GET /inventory/export/ledger.csv`` streams) at 100,000 entries and at the
   full ledger, each in a fresh process, beside a baseline writing the same
   bytes with the driver alone (one SELECT with the same joins, ``csv.writer``):
   rows/s, ratio, and the growth of peak resident memory from 100k to 1M;
2. the stock page (GET /inventory/, signed in; first page and a filtered page)
   beside (a) a raw read of exactly the balance rows that page shows (its items
   at its sites, the same columns, driver only, one connection, the statement
   prepared once) and (b) a bare page: that raw read served through the same app,
   session and sign-in check, as the same bytes (the page's own HTML compiled once
   as a template, its table body drawn from the raw rows by one loop with every
   label made ahead; checked byte for byte against the page). Each request runs in
   its own app context, as under a server. Prints page, raw read and bare page
   times and the ratios. The target (page <= 1.5 x a raw read of the balance rows
   it shows) is judged against (b): the raw read served as the same bytes, the
   fastest fair version of the page's work. (a) alone is printed for reference:
   it serves no page, and the bare page alone is several times it;
3. movements recorded per second through the service layer (intakes and
   distributions, each committed);
4. stock at one site as of a past date (``inventory.stock_as_of``);

and finally verifies every balance again after the recorded movements.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import random
import re
import statistics
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from _common import BIN, ROOT
from _measure import app_config, bench_database, child, measured, report, spread
from flask import request
from markupsafe import Markup, escape
from sqlalchemy import create_engine, func, insert, select, text

from donations import create_app
from donations.authz import ANY_ROLE, roles_required
from donations.extensions import db
from donations.models import (
    Condition,
    DocumentKind,
    Item,
    ItemCategory,
    Recipient,
    Site,
    StockDocument,
    StockEntry,
    StockLevel,
    User,
)
from donations.services import (
    inventory,
    inventory_files,
    movement_queries,
    summaries,
    user_sessions,
)
from donations.tenancy import ALL_ORGANIZATIONS, HOME_ORGANIZATION_ID

ENTRIES_PER_DOCUMENT = 10
CHUNK_DOCUMENTS = 10_000
ITEMS_PER_PAGE = 50  # the stock page's
TARGET_PAGE_RATIO = 1.5
TARGET_ROWS_PER_SECOND = 100_000
TARGET_MEMORY_GROWTH = 0.20


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
    conn.execute(insert(Recipient.__table__), [{"kind": "program", "name": "Bench program"}])
    db.session.commit()
    item_ids = list(db.session.scalars(select(Item.id).where(Item.code.like("B-%"))))
    site_ids = list(db.session.scalars(select(Site.id).where(Site.name.like("Bench site %"))))
    return item_ids, site_ids


def load_ledger(
    total: int,
    item_ids: list[int],
    site_ids: list[int],
    rng: random.Random,
    balance: dict[tuple[int, int], int],
    start: int,
    stop: int,
) -> int:
    """Append documents of up to ten entries, the ``start``-th to the ``stop``-th of a
    ledger of ``total`` over a year; keep ``balance``; return the entries written."""
    first_day = date.today() - timedelta(days=360)
    # Ids follow every organisation's documents (the demo has several), not the first's.
    top = select(func.max(StockDocument.id)).execution_options(**{ALL_ORGANIZATIONS: True})
    first_id = (db.session.scalar(top) or 0) + 1
    conn = db.session.connection()
    doc_rows: list[dict] = []
    entry_rows: list[dict] = []

    def flush() -> None:
        if doc_rows:
            conn.execute(insert(StockDocument.__table__), doc_rows)
            conn.execute(insert(StockEntry.__table__), entry_rows)
            doc_rows.clear()
            entry_rows.clear()

    written, n = start, 0
    entries = total
    while written < stop:
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
        moves = moves[: stop - written]
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
    if db.session.get_bind().dialect.name == "postgresql":  # ids given here: move the sequence
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('stock_documents', 'id'), "
                "(SELECT max(id) FROM stock_documents))"
            )
        )
    db.session.commit()
    return written


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


# --- the stock page ------------------------------------------------------------------

_TOKEN = re.compile(r'(name="csrf_token" value=")[^"]*(")')
_BODY = re.compile(r"<tbody>\n  (.*)\n  </tbody>", re.S)  # the template's own blanks kept
_PAR = ' <span class="muted small">/ {}</span>'
_UNDER = '<span class="visually-hidden"> (under par)</span>'


@dataclass
class StockPageCase:
    """One stock page to measure, and what its two baselines need to draw the same rows."""

    name: str
    path: str
    sql: str  # exactly the balance rows the page shows: its items at its sites
    rows: int
    heads: list[tuple[int, str]]  # per item, in the page's order: id, its row's <th> cell
    columns: list[tuple[int, str, str]]  # per site column: id, its <td>, its under-par <td>
    total: bool  # whether the page has an "All sites" column
    template: object = None  # the page's HTML compiled once, its rows and token as variables


def balance_sql(item_ids: list[int], site_ids: list[int]) -> str:
    """A raw read of exactly the balance rows a stock page shows: its items at its sites."""
    return (
        "SELECT item_id, site_id, on_hand, par_level FROM stock_levels "  # noqa: S608 - ids
        f"WHERE item_id IN ({','.join(map(str, item_ids))}) "
        f"AND site_id IN ({','.join(map(str, site_ids))})"
    )


def page_case(name: str, filters: dict[str, str]) -> StockPageCase:
    """The stock page with ``filters``: its URL, the SQL of its balance rows, and the
    item and site labels a bare page needs to draw the same table body."""
    sites = [s for s in movement_queries.sites_open_first() if s.active]
    sites = [s for s in sites if not filters.get("site") or str(s.id) == filters["site"]]
    query = movement_queries.stock_items_query(
        text=filters.get("q", ""),
        category_id=None,
        site_ids=[s.id for s in sites],
        show=filters["show"],
    )
    items = list(db.session.scalars(query.limit(ITEMS_PER_PAGE)))
    sql = balance_sql([i.id for i in items], [s.id for s in sites])
    rows = len(db.session.execute(text(sql)).all())
    heads = [
        (
            i.id,
            f'<th scope="row"><a href="/inventory/items/{i.id}">{escape(i.label)}</a> '
            f'<span class="muted small">{escape(i.code)}{" · kit" if i.is_kit else ""}</span></th>',
        )
        for i in items
    ]
    columns = []
    for s in sites:
        label = escape(s.name + (" (conf.)" if s.is_confidential else ""))
        columns.append(
            (s.id, f'<td class="num" data-label="{label}">',
             f'<td class="num under-par" data-label="{label}">')
        )  # fmt: skip
    db.session.rollback()
    query_string = "&".join(f"{k}={v.replace(' ', '+')}" for k, v in filters.items())
    return StockPageCase(
        name, f"/inventory/?{query_string}", sql, rows, heads, columns, len(sites) > 1
    )


def bare_rows(case: StockPageCase, balances: list[tuple]) -> str:
    """The table body of ``case`` drawn from its balance rows: one loop, strings made ahead."""
    levels = {(item, site): (on_hand, par) for item, site, on_hand, par in balances}
    none = (0, 0)
    out = ["\n  "]
    for item, head in case.heads:
        cells = []
        total = 0
        for site, plain, under in case.columns:
            on_hand, par = levels.get((item, site), none)
            total += on_hand
            if not par:
                cells.append(f"{plain}{on_hand}</td>")
            elif on_hand < par:
                cells.append(f"{under}{on_hand}{_PAR.format(par)}{_UNDER}</td>")
            else:
                cells.append(f"{plain}{on_hand}{_PAR.format(par)}</td>")
        all_sites = (
            f'<td class="num" data-label="All sites"><strong>{total}</strong></td>'
            if case.total
            else ""
        )
        out.append(
            f"\n    <tr>\n      {head}\n      {''.join(cells)}\n      {all_sites}\n    </tr>\n  "
        )
    return "".join(out)


def compile_bare_page(app, case: StockPageCase, html: str) -> None:
    """Make the page's own HTML a template, once: its CSRF token (drawn per request, as the
    page draws it) and its table body (drawn from the raw read) are the variables."""
    body = _BODY.search(html)
    if body is None:
        raise SystemExit(f"{case.path}: no <tbody>: update bench_inventory.py")
    head, tail = html[: body.start(1)], html[body.end(1) :]

    def raw(part: str) -> str:
        parts = _TOKEN.split(part)  # text, prefix, suffix, text, ...
        out = []
        for n in range(0, len(parts), 3):
            out.append("{% raw %}" + parts[n] + "{% endraw %}")
            if n + 1 < len(parts):
                out.append("{% raw %}" + parts[n + 1] + "{% endraw %}{{ csrf_token() }}")
                out.append("{% raw %}" + parts[n + 2] + "{% endraw %}")
        return "".join(out)

    case.template = app.jinja_env.from_string(raw(head) + "{{ rows }}" + raw(tail))


def signed_in_client(app):
    staff = db.session.scalar(select(User).where(User.email == "staff@example.org"))
    session_id = user_sessions.start_session(user=staff)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def add_bare_page(app) -> None:
    """/bench/balances?page=n: the bytes of stock page n, its rows read raw and drawn by
    one loop into the page's own HTML compiled once, through the same app, session and
    sign-in check as the stock page."""
    cases: list[StockPageCase] = []
    app.config["BENCH_PAGES"] = cases

    @roles_required(*ANY_ROLE)
    def bare_balances():
        case = cases[int(request.args["page"])]
        cursor = db.session.connection().connection.driver_connection.cursor()
        cursor.execute(case.sql)
        rows = cursor.fetchall()
        cursor.close()
        return case.template.render(rows=Markup(bare_rows(case, rows)))  # noqa: S704 - escaped

    app.add_url_rule("/bench/balances", "bench_balances", bare_balances)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure_pages(app, url: str, repeat: int) -> dict[str, dict[str, float]]:
    """Median times of the stock pages and their baselines, taken in turn each round.

    Every request runs in its own app context, as under a server (an app context held
    open around the client would keep the signed-in user, the organisation's name and
    the ORM session from one request to the next)."""
    with app.app_context():
        client = signed_in_client(app)
        site = db.session.scalar(select(Site.id).where(Site.name == "Bench site 03"))
        cases = [
            page_case("first", {"show": "held"}),
            page_case("filtered", {"site": str(site), "q": "item 01", "show": "held"}),
        ]
    app.config["BENCH_PAGES"][:] = cases
    raw_engine = create_engine(url)
    raw_conn = raw_engine.raw_connection().driver_connection
    postgres = url.startswith("postgresql")
    runs: dict[str, Callable[[], None]] = {}

    def get(path: str) -> Callable[[], bytes]:
        def run() -> bytes:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} answered {response.status_code}")
            return response.data

        return run

    def raw(sql: str) -> Callable[[], None]:
        # One connection, the statement prepared once: sqlite3 keeps it in its statement
        # cache; psycopg is asked to prepare it server-side.
        cursor = raw_conn.cursor()

        def run() -> None:
            if postgres:
                cursor.execute(sql, prepare=True)
            else:
                cursor.execute(sql)
            cursor.fetchall()

        return run

    for n, case in enumerate(cases):
        page = get(case.path)().decode()
        compile_bare_page(app, case, page)
        bare = get(f"/bench/balances?page={n}")().decode()
        if _TOKEN.sub(r"\1\2", bare) != _TOKEN.sub(r"\1\2", page):
            raise SystemExit(f"{case.path}: the bare page's bytes differ from the page's")
        runs[case.name] = get(case.path)
        runs[f"{case.name} raw"] = raw(case.sql)
        runs[f"{case.name} bare"] = get(f"/bench/balances?page={n}")
    times: dict[str, list[float]] = {name: [] for name in runs}
    for fn in runs.values():  # warm up
        fn()
    for _ in range(repeat):  # alternate, so drift hits all alike
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    raw_conn.close()
    raw_engine.dispose()
    return {
        case.name: {
            "page": statistics.median(times[case.name]),
            "raw": statistics.median(times[f"{case.name} raw"]),
            "bare": statistics.median(times[f"{case.name} bare"]),
            "rows": case.rows,
            "bytes": len(get(case.path)()),
        }
        for case in cases
    }


def print_pages(pages: dict[str, dict[str, float]], repeat: int) -> None:
    print(f"stock page (medians of {repeat}; load average {load_average()}):")
    for name, m in pages.items():
        page, raw, bare = m["page"], m["raw"], m["bare"]
        print(
            f"  {name:8}: page {page * 1000:6.2f} ms | raw read {raw * 1000:5.2f} ms "
            f"({m['rows']:,} balance rows) | bare page {bare * 1000:5.2f} ms "
            f"(the same {m['bytes'] / 1000:.1f} kB)"
        )
        ratio = page / bare
        verdict = "met" if ratio <= TARGET_PAGE_RATIO else "NOT met"
        print(
            f"            page / bare page = {ratio:5.2f} x (target <= {TARGET_PAGE_RATIO}: "
            f"{verdict}; the raw read served as the same bytes)"
        )
        print(
            f"            page / raw read  = {page / raw:5.2f} x (for reference: the bare page "
            f"alone is {bare / raw:.2f} x the raw read, which serves no page)"
        )


# --- the ledger CSV ------------------------------------------------------------------

LEDGER_SQL = """
SELECT e.document_id, d.kind, {effective}, {recorded}, s.name, i.code, i.name, i.size,
  e.quantity, e.condition, d.source, dn.name, d.drive_name, r.name, d.case_code, d.reason,
  d.reverses_id
FROM stock_entries e
JOIN stock_documents d ON d.id = e.document_id
JOIN sites s ON s.id = e.site_id
JOIN items i ON i.id = e.item_id
LEFT JOIN donors dn ON dn.id = d.donor_id
LEFT JOIN recipients r ON r.id = d.recipient_id
WHERE e.organization_id = {organization}
ORDER BY e.id
"""


def baseline_ledger(url: str, sink) -> int:
    """The same file with the driver alone: one query, csv.writer, 2,000 rows a chunk."""
    engine = create_engine(url)
    raw = engine.raw_connection()
    if url.startswith("postgresql"):
        cursor = raw.driver_connection.cursor(name="bench")  # server-side
        sql = LEDGER_SQL.format(
            effective="to_char(e.effective_date, 'YYYY-MM-DD')",
            recorded="to_char(d.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
            organization=HOME_ORGANIZATION_ID,
        )
    else:
        cursor = raw.driver_connection.cursor()
        sql = LEDGER_SQL.format(
            effective="e.effective_date",
            recorded="substr(d.recorded_at, 1, 19)",
            organization=HOME_ORGANIZATION_ID,
        )
    cursor.execute(sql)
    kinds = {k.value: k.label for k in DocumentKind}
    conditions = {c.value: c.label for c in Condition}
    safe = inventory_files.safe_cell
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(inventory_files.LEDGER_HEADER)
    rows = 0
    while batch := cursor.fetchmany(2_000):
        for (doc, kind, effective, recorded, site, code, name, size, quantity, condition,
             source, donor, drive, recipient, case_code, reason, reverses) in batch:  # fmt: skip
            writer.writerow([
                f"D-{doc:06d}", kinds[kind], effective, recorded or "", safe(site), safe(code),
                safe(f"{name} ({size})" if size else name), quantity,
                safe(conditions.get(condition, condition)),
                safe(inventory.SOURCE_LABELS.get(source, source)), safe(donor or ""),
                safe(drive), safe(recipient or ""), safe(case_code),
                safe(inventory.REASON_LABELS.get(reason, reason)),
                f"D-{reverses:06d}" if reverses else "",
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


def service_ledger(sink) -> int:
    rows = 0
    for chunk in inventory_files.ledger_csv():
        data = chunk.encode()
        rows += data.count(b"\n")
        sink(data)
    db.session.rollback()
    return rows - 1


def run_child(kind: str, url: str, hashed: bool) -> None:
    digest = hashlib.sha256()
    size = [0]

    def sink(data: bytes) -> None:
        size[0] += len(data)
        if hashed:
            digest.update(data)

    app = create_app(app_config(url))
    with app.app_context():
        # Connect, import and compile before measuring: an export matching no entry.
        for _ in inventory_files.ledger_csv(item_id=-1):
            pass
        db.session.rollback()
        if kind == "service":
            result = measured(lambda: {"rows": service_ledger(sink)})
        else:
            result = measured(lambda: {"rows": baseline_ledger(url, sink)})
    result["bytes"] = size[0]
    if hashed:
        result["sha256"] = digest.hexdigest()
    report(result)


def measure_ledger_csv(url: str, env: dict[str, str], entries: int, runs: int) -> dict:
    args = ("--url", url)
    service = child("bench_inventory.py", "--child", "service", *args, "--hashed", env=env)
    baseline = child("bench_inventory.py", "--child", "baseline", *args, "--hashed", env=env)
    same = service["sha256"] == baseline["sha256"]
    print(
        f"ledger CSV, {entries:,} entries: service and baseline bytes "
        f"{'identical' if same else 'DIFFER'} ({service['bytes'] / 1e6:.0f} MB)"
    )
    if not same or service["rows"] != entries:
        raise SystemExit(f"ledger CSV: {service['rows']:,} rows for {entries:,} entries")
    results: dict[str, list[dict]] = {"service": [], "baseline": []}
    for _ in range(runs):
        for kind in results:
            results[kind].append(child("bench_inventory.py", "--child", kind, *args, env=env))
    rates = {k: [r["rows"] / r["seconds"] for r in v] for k, v in results.items()}
    ratio = [s / b for s, b in zip(rates["service"], rates["baseline"], strict=True)]
    verdict = "met" if min(rates["service"]) >= TARGET_ROWS_PER_SECOND else "NOT met"
    rss = {k: spread([r["peak_rss_mb"] for r in results[k]]) for k in results}
    anon = {k: spread([r["peak_anon_mb"] for r in results[k]]) for k in results}
    print(
        f"  service : {spread(rates['service'])} rows/s "
        f"(target >= {TARGET_ROWS_PER_SECOND:,}: {verdict}); peak growth: "
        f"anonymous {anon['service']} MB, resident {rss['service']} MB"
    )
    print(
        f"  baseline: {spread(rates['baseline'])} rows/s; peak growth: "
        f"anonymous {anon['baseline']} MB, resident {rss['baseline']} MB"
    )
    print(f"  ratio service/baseline: {', '.join(f'{r:.2f}' for r in ratio)}")
    return {"peak": min(r["peak_anon_mb"] for r in results["service"])}


# --- movements -----------------------------------------------------------------


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


def build(args, app, url: str, env: dict[str, str]) -> tuple[list[int], list[int]]:
    """Load the catalog and the ledger (measuring the ledger CSV on the way, unless
    ``--skip-csv``), set and verify the balances; return the bench's item and site ids."""
    rng = random.Random(args.seed)
    balance: dict[tuple[int, int], int] = defaultdict(int)
    peaks: list[float] = []
    t0 = time.perf_counter()
    item_ids, site_ids = load_catalog(args.items, args.sites)
    demo_entries = db.session.scalar(select(func.count()).select_from(StockEntry))
    written = 0
    for stop in (min(args.first_size, args.entries), args.entries):
        if stop > written:
            written = load_ledger(args.entries, item_ids, site_ids, rng, balance, written, stop)
            print(f"loaded {written:,} bench entries ({time.perf_counter() - t0:.1f} s)")
            db.session.remove()
            if not args.skip_csv:
                result = measure_ledger_csv(url, env, written + demo_entries, args.runs)
                peaks.append(result["peak"])
    if len(peaks) == 2:
        growth = peaks[1] / peaks[0] - 1 if peaks[0] else float("inf")
        verdict = "met" if growth <= TARGET_MEMORY_GROWTH else "NOT met"
        print(
            f"ledger CSV peak anonymous memory growth: {peaks[1]:.1f} MB at the full ledger vs "
            f"{peaks[0]:.1f} MB at the first size ({growth:+.0%}; target within "
            f"{TARGET_MEMORY_GROWTH:.0%}: {verdict})"
        )
    load_levels(balance)
    load_summaries()
    # The planner's statistics, as upkeep (or PostgreSQL's autovacuum) keeps them.
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return item_ids, site_ids


def load_summaries() -> None:
    """Refill the summary tables (stock totals per period and per category, month-end
    closings) from the ledger, as recording each document through the services would have
    kept them: the bulk load above bypasses them (``flask inventory verify`` checks them)."""
    summaries.rebuild_all()
    db.session.commit()


def bench_ids() -> tuple[list[int], list[int]]:
    """The item and site ids of a database an earlier run built (empty lists if none)."""
    item_ids = list(db.session.scalars(select(Item.id).where(Item.code.like("B-%"))))
    site_ids = list(db.session.scalars(select(Site.id).where(Site.name.like("Bench site %"))))
    has_levels = db.session.scalar(select(func.count()).select_from(StockLevel)) > 0
    db.session.rollback()
    return (item_ids, site_ids) if has_levels else ([], [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--first-size", type=int, default=100_000, help="first ledger CSV size")
    parser.add_argument("--items", type=int, default=1_000)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--movements", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per page")
    parser.add_argument("--runs", type=int, default=2, help="timed runs of each CSV stream")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--keep",
        metavar="FILE",
        help="build the SQLite database in FILE and keep it; reuse FILE if an earlier run built "
        "it (with DATABASE_URL: reuse that database if it is already loaded)",
    )
    parser.add_argument("--skip-csv", action="store_true", help="do not measure the ledger CSV")
    parser.add_argument(
        "--pages-only", action="store_true", help="measure the stock page only (no movements)"
    )
    parser.add_argument("--child", choices=["service", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--hashed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.url, args.hashed)
        return

    with bench_database(args.keep) as (url, env):
        app = create_app(app_config(url))
        add_bare_page(app)
        with app.app_context():
            item_ids, site_ids = bench_ids() if args.keep else ([], [])
        print(f"database: {url.split(':')[0]}{' (kept from an earlier run)' if item_ids else ''}")
        with app.app_context():
            if not item_ids:
                subprocess.run(
                    [str(BIN / "flask"), "demo", "load"],
                    env=env,
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                )
                item_ids, site_ids = build(args, app, url, env)
            entries = db.session.scalar(select(func.count()).select_from(StockEntry))
            documents = db.session.scalar(select(func.count()).select_from(StockDocument))
            levels = db.session.scalar(select(func.count()).select_from(StockLevel))
            print(
                f"ledger: {entries:,} entries in {documents:,} documents, {levels:,} balances "
                f"({len(item_ids):,} items x {len(site_ids)} sites)"
            )
            t0 = time.perf_counter()
            problems = [] if args.pages_only else inventory.verify_balances()
            verify_seconds = time.perf_counter() - t0
            print(
                f"verify_balances            : {verify_seconds * 1000:8.0f} ms, "
                f"{'all balances match' if not problems else f'{len(problems)} DIFFER'}"
                f"{' (skipped: --pages-only)' if args.pages_only else ''}"
            )
            if problems:
                raise SystemExit(1)

        pages = measure_pages(app, url, args.repeat)
        print_pages(pages, args.repeat)
        if args.pages_only:
            return

        with app.app_context():
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
            lines = outcome.output.strip().splitlines()
            shown = "\n".join(lines[:6] + (["  ..."] if len(lines) > 7 else []) + lines[6:][-1:])
            print(
                f"flask inventory verify     : {shown} "
                f"({time.perf_counter() - t0:.1f} s, exit code {outcome.exit_code})"
            )
            if outcome.exit_code:
                raise SystemExit(1)


if __name__ == "__main__":
    main()
