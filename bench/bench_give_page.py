"""Donation page throughput under gunicorn, beside a bare Flask page of the same size.

Run by hand: ``make bench`` (or ``.venv/bin/python bench/bench_give_page.py``).
Prints requests per second for both and their ratio (target >= 0.5).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import urllib.request

from _common import gunicorn, instance, measure_get_fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    with (
        instance() as (env, _db),
        tempfile.TemporaryDirectory() as tmp,
        gunicorn("wsgi:app", env) as app_port,
    ):
        html = urllib.request.urlopen(f"http://127.0.0.1:{app_port}/give").read()
        page_file = os.path.join(tmp, "page.html")
        with open(page_file, "wb") as fh:
            fh.write(html)
        bare_env = {**env, "BARE_PAGE_FILE": page_file, "PYTHONPATH": os.path.dirname(__file__)}
        with gunicorn("bare_app:app", bare_env) as bare_port:
            results: dict[str, list[float]] = {"give": [], "bare": []}
            for _ in range(args.rounds):  # alternate, so drift hits both alike
                for name, port, path in (("give", app_port, "/give"), ("bare", bare_port, "/")):
                    rate, errors = measure_get_fast(
                        port, path, seconds=args.seconds, concurrency=args.concurrency
                    )
                    if errors:
                        raise SystemExit(f"{errors} failed requests to {name}")
                    results[name].append(rate)
    give = sum(results["give"]) / len(results["give"])
    bare = sum(results["bare"]) / len(results["bare"])
    print(f"page size: {len(html):,} bytes; {args.concurrency} clients, 2 gunicorn workers")
    print(f"donation page GET /give : {give:8.1f} req/s")
    print(f"bare Flask page (base)  : {bare:8.1f} req/s")
    print(f"ratio                   : {give / bare:8.2f}  (target >= 0.50)")


if __name__ == "__main__":
    main()
