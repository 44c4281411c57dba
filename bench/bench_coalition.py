"""One organisation's pages among many: within 1.2x of the same pages with it alone.

Run by hand (``.venv/bin/python bench/bench_coalition.py``; the full build, 50
organisations of 20k gifts each, takes several minutes; ``--keep`` caches it). Builds two
databases from the demo data (the first shelter, and the second member the demo adds):

  alone      the first organisation with ``--gifts`` gifts and as many ledger entries,
             audit events and half as many messages (``bench/scale_data.py``);
  coalition  the same, plus ``--orgs - 1`` other organisations with as much each
             (the demo's second member among them).

Signed in as the first organisation's demo admin, it times warm GETs of its pages in both
(the median of ``--repeat`` rounds, the two databases taken in turn each round so a busy
moment falls on both alike) and prints each page's milliseconds with the ratio
coalition / alone. The baseline is the same page, same bytes, same server, in the same
run; the target is <= 1.2.

SQLite by default (files in ``--cache-dir``). With ``DATABASE_URL=postgresql+psycopg://...``
the two are built in ``<database>_alone`` and ``<database>_coalition`` on that server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import bench_env
from bench_scale import _app, _flask, _reset_postgres, page_urls
from scale_data import build, finish_load
from sqlalchemy import create_engine, select, text

from donations.extensions import db
from donations.models import Organization, User
from donations.services import giving, organizations, user_sessions
from donations.tenancy import use_organization

SELECT_BUILT = text("SELECT orgs, gifts FROM bench_coalition_built")
CREATE_MARKER = text("CREATE TABLE bench_coalition_built (orgs INTEGER, gifts INTEGER)")
INSERT_MARKER = text("INSERT INTO bench_coalition_built VALUES (:orgs, :gifts)")
EXTRA_PAGES = {"stock": "/inventory/", "donation page": "/give"}


def _built(url: str) -> tuple[int, int] | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(SELECT_BUILT).first()
            return (row[0], row[1]) if row else None
    except Exception:  # no such table or file: not built
        return None
    finally:
        engine.dispose()


def prepare(url: str, *, orgs: int, gifts: int, workdir: Path, keep: bool) -> None:
    """Build a database at ``url``: the demo, then ``orgs`` organisations of ``gifts``."""
    if keep and _built(url) == (orgs, gifts):
        return
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
        ids = list(db.session.scalars(select(Organization.id).order_by(Organization.id)))
        while len(ids) < orgs:
            n = len(ids) + 1
            made = organizations.create_organization(
                actor=None, slug=f"member-{n:02d}", legal_name=f"Member shelter {n:02d}"
            )
            db.session.flush()
            with use_organization(made.id):
                giving.ensure_default_funds()
            db.session.commit()
            ids.append(made.id)
        for position, organization_id in enumerate(ids[:orgs]):
            with use_organization(organization_id):
                build(gifts, seed=2026 + position, finish=False)
        finish_load()
        db.session.execute(CREATE_MARKER)
        db.session.execute(INSERT_MARKER, {"orgs": orgs, "gifts": gifts})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    print(f"  built {orgs} organisation(s) of {gifts:,} gifts in {time.perf_counter() - t0:.0f} s")


class Target:
    """One built database, signed in as the first organisation's admin."""

    def __init__(self, url: str) -> None:
        self.app = _app(url)
        with self.app.app_context():
            admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
            session_id = user_sessions.start_session(user=admin)
            db.session.commit()
            self.client = self.app.test_client()
            with self.client.session_transaction() as session:
                session["_user_id"] = session_id
                session["_fresh"] = True
            self.urls = page_urls(self.client) | EXTRA_PAGES
        self.times: dict[str, list[float]] = {name: [] for name in self.urls}
        self.sizes: dict[str, int] = {}

    def round(self, *, record: bool) -> None:
        with self.app.app_context():
            for name, path in self.urls.items():
                t0 = time.perf_counter()
                response = self.client.get(path)
                seconds = time.perf_counter() - t0
                if response.status_code != 200:
                    raise SystemExit(f"GET {path} answered {response.status_code}")
                self.sizes[name] = len(response.get_data())
                if record:
                    self.times[name].append(seconds)
            db.session.remove()

    def medians(self) -> dict[str, float]:
        return {name: statistics.median(values) for name, values in self.times.items()}

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orgs", type=int, default=50, help="organisations in the coalition")
    parser.add_argument("--gifts", type=int, default=20_000, help="gifts per organisation")
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds")
    parser.add_argument("--keep", action="store_true", help="keep and reuse the databases")
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "bench-org"))
    args = parser.parse_args()
    workdir = Path(args.cache_dir)
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("JOBS_SQLITE_PATH", str(workdir / "jobs.sqlite3"))
    postgres = os.environ.get("DATABASE_URL", "")
    if postgres.startswith("postgresql"):
        base, _, name = postgres.rpartition("/")
        urls = {"alone": f"{base}/{name}_alone", "coalition": f"{base}/{name}_coalition"}
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for url in urls.values():
                db_name = url.rpartition("/")[2]
                if not conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": db_name}
                ).first():
                    conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        admin.dispose()
    else:
        urls = {name: f"sqlite:///{workdir / f'{name}.sqlite3'}" for name in ("alone", "coalition")}
    print(
        f"database: {'PostgreSQL' if postgres.startswith('postgresql') else 'SQLite'}; "
        f"{args.orgs} organisations of {args.gifts:,} gifts against one alone",
        flush=True,
    )
    prepare(urls["alone"], orgs=1, gifts=args.gifts, workdir=workdir, keep=args.keep)
    prepare(urls["coalition"], orgs=args.orgs, gifts=args.gifts, workdir=workdir, keep=args.keep)
    targets = {name: Target(url) for name, url in urls.items()}
    for target in targets.values():
        target.round(record=False)
        target.round(record=False)
    for _ in range(args.repeat):
        for target in targets.values():
            target.round(record=True)
    alone, coalition = targets["alone"].medians(), targets["coalition"].medians()
    print(f"\n{'page (median ms)':24}{'alone':>10}{'coalition':>11}   ratio (target <= 1.2)")
    worst = 0.0
    for name in targets["alone"].urls:
        ratio = coalition[name] / alone[name]
        worst = max(worst, ratio)
        same = targets["alone"].sizes[name] == targets["coalition"].sizes[name]
        note = "" if same else "  (bytes differ)"
        verdict = "met" if ratio <= 1.2 else "NOT met"
        print(
            f"{name:24}{alone[name] * 1000:10.1f}{coalition[name] * 1000:11.1f}"
            f"   {ratio:5.2f}  {verdict}{note}"
        )
    print(f"worst ratio {worst:.2f}")
    for target in targets.values():
        target.close()
    if not args.keep and not postgres.startswith("postgresql"):
        for url in urls.values():
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
