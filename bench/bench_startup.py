"""Start-up: how long ``create_app()`` takes, and a fresh instance's first page.

Run by hand: ``make bench`` (or ``.venv/bin/python bench/bench_startup.py``).

1. ``create_app()`` with the real configuration (PUBLIC_BASE_URL set, SQLite in a
   temporary instance), timed inside N fresh processes (imports included), median,
   against the 1 s target, beside a bare ``Flask(__name__)`` made the same way in the
   same run (the floor any Flask app pays).
   The project's bytecode is compiled first (``compileall``), as any server has it after
   its first start: with ``PYTHONDONTWRITEBYTECODE`` set (as on some machines) every
   start would otherwise compile some 260 modules from source, about 0.3 s that neither
   a deployment nor the bare Flask app (whose packages are compiled at install) pays.
2. What ``make run`` does on a fresh instance with a built environment: ``flask db
   upgrade``, ``flask demo load``, then a job consumer and ``flask run``; the time from
   the start to the first 200 from ``GET /healthz``, against the 30 s target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from _common import BIN, ROOT, bench_env, free_port

CREATE_TARGET = 1.0
RUN_TARGET = 30.0
TIMED = """
import time
started, cpu = time.perf_counter(), time.process_time()
{body}
print(time.perf_counter() - started, time.process_time() - cpu)
"""
APP = "from donations import create_app\ncreate_app()"
BARE = "from flask import Flask\nFlask(__name__)"


def timed(body: str, env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(runs):
        out = subprocess.run(
            [str(BIN / "python"), "-c", TIMED.format(body=body)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        walls.append(float(out[0]))
        cpus.append(float(out[1]))
    return walls, cpus


def first_page(env: dict[str, str]) -> dict[str, float]:
    """Do what `make run` does on a fresh instance; return the seconds each step took."""
    steps: dict[str, float] = {}
    started = time.perf_counter()
    for name, args in (("db upgrade", ["db", "upgrade"]), ("demo load", ["demo", "load"])):
        t = time.perf_counter()
        subprocess.run(
            [str(BIN / "flask"), *args], env=env, cwd=ROOT, check=True, capture_output=True
        )
        steps[name] = time.perf_counter() - t
    port = free_port()
    t = time.perf_counter()
    processes = [
        subprocess.Popen(
            [str(BIN / "flask"), *args],
            env={**env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for args in (
            ["jobs", "work", "--workers", "2"],
            ["run", "--host", "127.0.0.1", "--port", str(port)],
        )
    ]
    try:
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        else:
            raise SystemExit("the server never answered /healthz")
        steps["server up"] = time.perf_counter() - t
        steps["total"] = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per figure")
    parser.add_argument("--first-page-runs", type=int, default=2)
    args = parser.parse_args()

    subprocess.run(
        [str(BIN / "python"), "-m", "compileall", "-q", "donations"], cwd=ROOT, check=True
    )
    with tempfile.TemporaryDirectory(prefix="donations-startup-") as tmp:
        env = bench_env(os.path.join(tmp, "app.sqlite3"), PUBLIC_BASE_URL="http://127.0.0.1:5000")
        app_wall, app_cpu = timed(APP, env, args.runs)
        bare_wall, bare_cpu = timed(BARE, env, args.runs)
    app_median, bare_median = statistics.median(app_wall), statistics.median(bare_wall)
    verdict = "met" if app_median <= CREATE_TARGET else "NOT met"
    print(f"create_app(), median of {args.runs} fresh processes (imports included):")
    print(
        f"  create_app()       : {app_median:6.3f} s (spread {min(app_wall):.3f}-"
        f"{max(app_wall):.3f}; CPU {statistics.median(app_cpu):.3f} s)  "
        f"target <= {CREATE_TARGET:g} s: {verdict}"
    )
    print(
        f"  bare Flask(__name__): {bare_median:6.3f} s (CPU {statistics.median(bare_cpu):.3f} s)"
        f"  ratio {app_median / bare_median:.1f}x"
    )

    totals = []
    for n in range(args.first_page_runs):
        with tempfile.TemporaryDirectory(prefix="donations-first-run-") as tmp:
            steps = first_page(bench_env(os.path.join(tmp, "app.sqlite3")))
        totals.append(steps["total"])
        detail = ", ".join(f"{k} {v:.1f} s" for k, v in steps.items() if k != "total")
        print(f"fresh instance to first 200 from /healthz (run {n + 1}): {detail}")
    total = statistics.median(totals)
    verdict = "met" if total <= RUN_TARGET else "NOT met"
    print(
        f"  `make run` steps, fresh instance -> first page: {total:.1f} s "
        f"(median of {len(totals)})  target <= {RUN_TARGET:g} s: {verdict}"
    )


if __name__ == "__main__":
    main()
