"""Flat pages: each big list answers as quickly at 1M rows as at 10k (target: within 2x).

Run by hand (``.venv/bin/python bench/bench_scale.py``; the 1M build takes several
minutes, ``--keep`` caches it). For each size (``--sizes 10000,100000,1000000``) builds a
database with the demo data plus ``bench/scale_data.py``'s rows: that many gifts and
ledger entries, a donor per 20 gifts, as many audit events and half as many messages.
Then, signed in as the demo admin through a Flask test client, it times warm GETs of each
page (the median of ``--repeat`` rounds, the pages taken in turn each round):

  gifts first page, gifts last page (the "Oldest" link on the first page, as a user
  reaches it), reports (this year, and an uneven period of 384 days), the report PDF,
  dashboard, an item's history, stock on a past date, audit log,
  outgoing mail, donor list;

and prints a table of milliseconds per page per size, with the ratio of the largest
size to the smallest (the target is <= 2: the baseline is the same page, measured in the
same run, at the smallest size).

SQLite by default (a file per size in ``--cache-dir``, deleted after unless ``--keep``).
With ``DATABASE_URL=postgresql+psycopg://...`` each size is built in that database in
turn (its schema emptied first); ``--keep`` then reuses it when it already holds the size.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from html import unescape
from pathlib import Path

from _common import BIN, ROOT, bench_env
from scale_data import build
from sqlalchemy import create_engine, func, select, text

from donations import create_app
from donations.extensions import db
from donations.models import Item, Site, StockEntry, User
from donations.services import user_sessions

PAGES = [
    "gifts, first page",
    "gifts, last page",
    "reports",
    "reports, uneven period",
    "report PDF",
    "dashboard",
    "item history",
    "stock on a past date",
    "audit log",
    "outgoing mail",
    "donor list",
]
SELECT_SIZE = text("SELECT size FROM bench_scale_size")
CREATE_MARKER = text("CREATE TABLE bench_scale_size (size INTEGER)")
INSERT_SIZE = text("INSERT INTO bench_scale_size VALUES (:size)")


def _flask(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "flask"), *args], env=env, cwd=ROOT, check=True, capture_output=True)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _built_size(url: str) -> int | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(SELECT_SIZE).scalar()
    except Exception:  # no such table (or no such file): not built
        return None
    finally:
        engine.dispose()


def prepare(size: int, url: str, workdir: Path, keep: bool) -> float:
    """Build the database at ``url`` for ``size`` unless kept; return the build seconds."""
    if keep and _built_size(url) == size:
        return 0.0
    if url.startswith("postgresql"):
        _reset_postgres(url)
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    env = bench_env(str(workdir / "unused.sqlite3"), DATABASE_URL=url)
    t0 = time.perf_counter()
    _flask(env, "db", "upgrade")
    _flask(env, "demo", "load")
    app = _app(url)
    with app.app_context():
        counts = build(size)
        db.session.execute(CREATE_MARKER)
        db.session.execute(INSERT_SIZE, {"size": size})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    seconds = time.perf_counter() - t0
    print(f"  built {size:,}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    print(f"  in {seconds:.0f} s", flush=True)
    return seconds


def _app(url: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark-secret-key",
            "MAIL_SEND_AFTER_COMMIT": False,
            "SESSION_COOKIE_SECURE": False,
            "PUBLIC_BASE_URL": "http://localhost",
        }
    )


def _signed_in(app):
    admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
    session_id = user_sessions.start_session(user=admin)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def _link(html: str, label: str) -> str:
    found = re.search(rf'<a href="([^"]+)"[^>]*>[^<]*{label}', html)
    if not found:
        raise SystemExit(f"no {label!r} link on the first gifts page")
    return unescape(found.group(1))


def page_urls(client) -> dict[str, str]:
    """The URL of each page, found as a user would (the gifts' last page by its link)."""
    item = db.session.scalar(
        select(StockEntry.item_id).group_by(StockEntry.item_id).order_by(func.count().desc())
    )
    item = item or db.session.scalar(select(Item.id))
    site = db.session.scalar(select(Site.id).where(Site.name == "Scale site 00"))
    past = date.today() - timedelta(days=365 * 5)
    first = client.get("/gifts/").get_data(as_text=True)
    return {
        "gifts, first page": "/gifts/",
        "gifts, last page": _link(first, "Oldest"),
        "reports": "/reports/",
        "reports, uneven period": (
            f"/reports/?date_from={date.today() - timedelta(days=400)}"
            f"&date_to={date.today() - timedelta(days=17)}"
        ),
        "report PDF": "/reports/report.pdf",
        "dashboard": "/dashboard",
        "item history": f"/inventory/items/{item}",
        "stock on a past date": f"/inventory/as-of?site={site}&day={past.isoformat()}",
        "audit log": "/admin/audit",
        "outgoing mail": "/admin/mail",
        "donor list": "/donors/",
    }


class Target:
    """One built database, signed in, with its pages' URLs and their times so far."""

    def __init__(self, url: str) -> None:
        self.app = _app(url)
        with self.app.app_context():
            self.client = _signed_in(self.app)
            self.urls = page_urls(self.client)
        self.times: dict[str, list[float]] = {name: [] for name in self.urls}

    def round(self, *, record: bool) -> None:
        """GET each page once, timing each."""
        with self.app.app_context():
            for name, path in self.urls.items():
                t0 = time.perf_counter()
                response = self.client.get(path)
                seconds = time.perf_counter() - t0
                if response.status_code != 200:
                    raise SystemExit(f"GET {path} answered {response.status_code}")
                if record:
                    self.times[name].append(seconds)
            db.session.remove()

    def medians(self) -> dict[str, float]:
        return {name: statistics.median(values) for name, values in self.times.items()}

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def measure(targets: list[Target], repeat: int) -> None:
    """Warm every target up, then time ``repeat`` rounds, the sizes taken in turn each round
    so that a busy moment on the machine falls on all of them alike."""
    for target in targets:
        target.round(record=False)
        target.round(record=False)
    for _ in range(repeat):
        for target in targets:
            target.round(record=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated")
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds per size")
    parser.add_argument("--keep", action="store_true", help="keep and reuse the databases")
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "bench-scale"))
    args = parser.parse_args()
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    workdir = Path(args.cache_dir)
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("JOBS_SQLITE_PATH", str(workdir / "jobs.sqlite3"))
    postgres = os.environ.get("DATABASE_URL", "")
    postgres = postgres if postgres.startswith("postgresql") else ""
    print(f"database: {'PostgreSQL' if postgres else 'SQLite'}; sizes {sizes}", flush=True)

    results: dict[int, dict[str, float]] = {}
    if postgres:  # one database: each size built and measured in turn
        for size in sizes:
            prepare(size, postgres, workdir, args.keep)
            target = Target(postgres)
            measure([target], args.repeat)
            results[size] = target.medians()
            target.close()
    else:  # a file per size, all measured in the same rounds
        urls = {size: f"sqlite:///{workdir / f'scale-{size}.sqlite3'}" for size in sizes}
        for size, url in urls.items():
            prepare(size, url, workdir, args.keep)
        targets = {size: Target(url) for size, url in urls.items()}
        measure(list(targets.values()), args.repeat)
        for size, target in targets.items():
            results[size] = target.medians()
            target.close()
            if not args.keep:
                Path(urls[size].removeprefix("sqlite:///")).unlink(missing_ok=True)

    small, large = sizes[0], sizes[-1]
    head = f"{'page (median ms)':24}" + "".join(f"{s:>11,}" for s in sizes)
    print(f"\n{head}   ratio {large:,}/{small:,} (target <= 2)")
    for name in PAGES:
        cells = "".join(f"{results[s][name] * 1000:11.1f}" for s in sizes)
        ratio = results[large][name] / results[small][name]
        verdict = "met" if ratio <= 2 else "NOT met"
        print(f"{name:24}{cells}   {ratio:6.2f}  {verdict}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
