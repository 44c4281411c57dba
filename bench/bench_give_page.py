"""Donation page throughput under gunicorn, beside a bare Flask page serving the same bytes.

Run by hand: ``make bench`` (or ``.venv/bin/python bench/bench_give_page.py``).

Three servers, 2 sync gunicorn workers each, measured in alternating rounds:
- ``GET /give`` as a stranger sees it: one query, the fieldsets kept per version of the
  settings, the page around them drawn with the visitor's own CSRF token and session cookie;
- the baseline: a bare Flask app serving the same bytes from a template compiled once;
- a plain WSGI callable returning the bytes: the ceiling of this machine and load
  generator, printed to show that the baseline is not capped by the client.
Prints requests per second and the ratios to the baseline (target >= 0.5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import urllib.request

from _common import gunicorn, instance, measure_get_fast

TARGET = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    with (
        instance() as (env, _db),
        tempfile.TemporaryDirectory() as tmp,
        gunicorn("wsgi:app", env) as app_port,
    ):
        html = urllib.request.urlopen(f"http://127.0.0.1:{app_port}/give").read()
        page_file = os.path.join(tmp, "page.html")
        with open(page_file, "wb") as fh:
            fh.write(html)
        bench_env = {**env, "BARE_PAGE_FILE": page_file}
        bench_env["PYTHONPATH"] = os.pathsep.join([here, env["PYTHONPATH"]])
        with (
            gunicorn("bare_app:app", bench_env) as bare_port,
            gunicorn("bare_app:raw", bench_env) as raw_port,
        ):
            servers = (
                ("give", app_port, "/give"),
                ("bare", bare_port, "/"),
                ("raw", raw_port, "/"),
            )
            for _name, port, path in servers:  # warm up: templates compiled, pools filled
                measure_get_fast(port, path, seconds=1, concurrency=args.concurrency)
            results: dict[str, list[float]] = {name: [] for name, _, _ in servers}
            for _ in range(args.rounds):  # alternate, so drift hits all alike
                for name, port, path in servers:
                    rate, errors = measure_get_fast(
                        port, path, seconds=args.seconds, concurrency=args.concurrency
                    )
                    if errors:
                        raise SystemExit(f"{errors} failed requests to {name}")
                    results[name].append(rate)
    rate = {name: statistics.median(values) for name, values in results.items()}
    bare = rate["bare"]
    print(
        f"page size: {len(html):,} bytes; {args.concurrency} clients in 2 processes, "
        f"2 gunicorn sync workers; median of {args.rounds} rounds of {args.seconds:g} s"
    )
    ratio = rate["give"] / bare
    verdict = "met" if ratio >= TARGET else "NOT met"
    spread = f"{min(results['give']):.0f}-{max(results['give']):.0f}"
    print(
        f"GET /give                    : {rate['give']:8.1f} req/s ({spread})  ratio {ratio:5.2f} "
        f"(target >= {TARGET}: {verdict})"
    )
    print(f"bare Flask page (baseline)   : {bare:8.1f} req/s")
    print(
        f"plain WSGI, same bytes       : {rate['raw']:8.1f} req/s "
        f"(client ceiling; baseline at {bare / rate['raw']:.2f} of it)"
    )


if __name__ == "__main__":
    main()
