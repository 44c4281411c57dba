"""Shared pieces of the export benchmarks: the database to use, a fresh process per
measurement, and the peak memory of that process.

``DATABASE_URL`` picks the database (an empty one: the bench migrates and fills
it, e.g. ``createdb -h 127.0.0.1 -p 55432 -U postgres bench`` then
``DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:55432/bench``; drop it
after); without it a throwaway SQLite file is used.

Each measurement runs in a fresh child process (``child``) so the peaks of
different runs are comparable: the child resets the kernel's high-water mark of
its resident memory (``/proc/self/clear_refs``), does the work, and reports
``VmHWM`` minus the resident size it started from, which counts C allocations
(the driver's buffers, SQLite's page cache) that tracemalloc does not see.

Resident size also counts the pages of the database file SQLite reads through its
memory map (``PRAGMA mmap_size``, set on every connection): clean file pages, shared
with the kernel's page cache, that grow with the file read and not with what the
process holds. So each measurement also reports the peak of its anonymous memory
(``RssAnon``, sampled every 10 ms by a thread): everything the process allocated
(Python objects, the driver's buffers, SQLite's own page cache), none of the file.
That is the figure a streaming export must keep flat.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import BIN, ROOT, bench_env

PREFIX = "BENCH-RESULT "


@contextmanager
def bench_database(sqlite_path: str | None = None) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (SQLAlchemy URL, environment) of a migrated database: empty, unless
    ``sqlite_path`` names a SQLite file kept from an earlier run (without ``DATABASE_URL``)."""
    with tempfile.TemporaryDirectory(prefix="donations-bench-") as tmp:
        sqlite_path = sqlite_path or os.path.join(tmp, "bench.sqlite3")
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{sqlite_path}"
        env = bench_env(os.path.join(tmp, "bench.sqlite3"), DATABASE_URL=url)
        subprocess.run(
            [str(BIN / "flask"), "db", "upgrade"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        yield url, env


def app_config(url: str) -> dict[str, object]:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "benchmark-secret-key",
        "MAIL_SEND_AFTER_COMMIT": False,
        "SESSION_COOKIE_SECURE": False,
        "PUBLIC_BASE_URL": "http://localhost",  # the test client's host
    }


def memory_kb(field: str) -> int:
    """A field of /proc/self/status in kB: VmRSS (now) or VmHWM (the peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak() -> None:
    """Set VmHWM back to the current resident size (Linux 4.0+)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


class _AnonPeak(threading.Thread):
    """Sample ``RssAnon`` every ``interval`` seconds until stopped; keep the highest."""

    def __init__(self, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = memory_kb("RssAnon")
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.peak = max(self.peak, memory_kb("RssAnon"))

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return max(self.peak, memory_kb("RssAnon"))


def measured(fn: Callable[[], dict]) -> dict:
    """Run ``fn`` in this (child) process; add its seconds and peak memory growth (resident,
    and anonymous: without the database file's mapped pages)."""
    start_rss, start_anon = memory_kb("VmRSS"), memory_kb("RssAnon")
    sampler = _AnonPeak()
    reset_peak()
    sampler.start()
    t0 = time.perf_counter()
    result = fn()
    result["seconds"] = time.perf_counter() - t0
    result["peak_anon_mb"] = (sampler.stop() - start_anon) / 1024
    result["peak_rss_mb"] = (memory_kb("VmHWM") - start_rss) / 1024
    return result


def report(result: dict) -> None:
    """The child's last line: its result as JSON for the parent."""
    print(PREFIX + json.dumps(result), flush=True)


def child(script: str, *args: str, env: dict[str, str]) -> dict:
    """Run ``script`` (in bench/) with ``args`` in a fresh process; return its result."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).parent / script), *args],
        env=env,
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
    for line in reversed(out.stdout.splitlines()):
        if line.startswith(PREFIX):
            return json.loads(line[len(PREFIX) :])
    raise RuntimeError(f"{script} {' '.join(args)} printed no result:\n{out.stdout}{out.stderr}")


def spread(values: list[float]) -> str:
    """ "median (min-max)" of a few runs."""
    if len(values) == 1:
        return f"{values[0]:,.0f}"
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"
