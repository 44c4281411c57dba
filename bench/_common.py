"""Shared pieces of the benchmarks: a throwaway instance, servers, a load generator."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_env(db_path: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "MAIL_"))}
    env.update(
        FLASK_APP="donations",
        DATABASE_URL=f"sqlite:///{db_path}",
        SECRET_KEY="benchmark-secret-key",
        SESSION_COOKIE_SECURE="false",
        PYTHONPATH=str(ROOT),
        MAIL_EML_DIR=str(Path(db_path).parent / "mail"),
        JOBS_SQLITE_PATH=str(Path(db_path).parent / "jobs.sqlite3"),
        BACKUP_NIGHTLY="false",
    )
    env.update(extra)
    return env


def _log_file(name: str):
    """Where a server's output goes: ``$BENCH_LOG_DIR/<name>.log`` when set, else nowhere."""
    folder = os.environ.get("BENCH_LOG_DIR")
    if not folder:
        return subprocess.DEVNULL
    return open(os.path.join(folder, f"{name}.log"), "ab")  # the child process writes to it


@contextmanager
def consumers(env: dict[str, str], *, count: int = 1, workers: int = 2):
    """Run ``count`` job consumers (``flask jobs work``) with ``env``, at nice 10 as ``make
    run`` and the README's service units start them, the first keeping the periodic
    schedule and the others started with ``--no-periodic`` (the README's topology); stop
    them on leaving."""
    processes = [
        subprocess.Popen(
            [str(BIN / "flask"), "jobs", "work", "--workers", str(workers), "--nice", "10"]
            + (["--no-periodic"] if n else []),
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=_log_file(f"consumer-{n}"),
        )
        for n in range(count)
    ]
    try:
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def instance(**extra: str):
    """Yield (env, db_path) for a fresh, migrated database with demo data."""
    with tempfile.TemporaryDirectory(prefix="donations-bench-") as tmp:
        db_path = os.path.join(tmp, "bench.sqlite3")
        env = bench_env(db_path, **extra)
        for args in (["db", "upgrade"], ["demo", "load"]):
            subprocess.run(
                [str(BIN / "flask"), *args], env=env, cwd=ROOT, check=True, capture_output=True
            )
        yield env, db_path


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], *, workers: int = 2, threads: int = 1):
    """Serve ``app_spec`` with gunicorn on a free loopback port; yield the port."""
    port = free_port()
    # wsgi.py refuses to serve without the site's address; only this Host is accepted.
    env = {**env, "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers", str(workers),
            "--threads", str(threads),
            "--bind", f"127.0.0.1:{port}",
            "--log-level", "warning",
            app_spec,
        ],
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn for {app_spec} did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# A keep-alive connection stays with the server worker that accepted it: four of them may
# all land on one of gunicorn's two workers (half the server) or spread over both, and a
# measurement's rate then depends on that draw (1,190 and 2,060 req/s, one after the other).
# A client that reconnects every RECONNECT_EVERY requests makes many draws in a run.
RECONNECT_EVERY = 50


def measure_get(
    port: int, path: str, *, seconds: float, concurrency: int, reconnect_every: int = 0
) -> tuple[float, int]:
    """GET ``path`` from keep-alive clients for ``seconds`` (each reconnecting after
    ``reconnect_every`` requests when set); return (req/s, errors)."""
    stop = time.monotonic() + seconds
    counts = [0] * concurrency
    errors = [0] * concurrency

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        sent = 0
        while time.monotonic() < stop:
            sent += 1
            if reconnect_every and sent % reconnect_every == 0:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    counts[i] += 1
                else:
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return sum(counts) / elapsed, sum(errors)


def _fetch_loop(port: int, path: str, stop_at: float, connections: int, out) -> None:
    """One client process: ``connections`` threads sending raw GETs until ``stop_at``.

    Raw sockets and a pre-built request keep the client's own cost per request small, so the
    server, not the load generator, is what is measured (http.client costs several times more).
    """
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\n\r\n"
    ).encode()
    ok = [0] * connections
    bad = [0] * connections

    def one(i: int) -> None:
        sock = None
        buffer = b""
        while time.time() < stop_at:
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                    buffer = b""
                sock.sendall(request)
                while b"\r\n\r\n" not in buffer:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise OSError("closed before the headers")
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lower = head.lower()
                length = int(lower.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                while len(buffer) < length:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise OSError("closed before the body")
                    buffer += chunk
                buffer = buffer[length:]
                if head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200"):
                    ok[i] += 1
                else:
                    bad[i] += 1
                if b"connection: close" in lower:  # gunicorn's sync workers close every time
                    sock.close()
                    sock = None
            except (OSError, IndexError, ValueError):
                bad[i] += 1
                if sock is not None:
                    sock.close()
                sock = None
        if sock is not None:
            sock.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((sum(ok), sum(bad)))


def measure_get_fast(
    port: int, path: str, *, seconds: float, concurrency: int, processes: int = 2
) -> tuple[float, int]:
    """Like ``measure_get``, from ``processes`` client processes with raw sockets.

    Several processes, so the client's Python is not one core's worth of GIL; raw sockets, so
    each request costs the client little. Returns (successful req/s, failed requests).
    """
    import multiprocessing

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    per_process = [
        concurrency // processes + (i < concurrency % processes) for i in range(processes)
    ]
    started = time.time()
    stop_at = started + seconds
    workers = [
        context.Process(target=_fetch_loop, args=(port, path, stop_at, n, results))
        for n in per_process
        if n
    ]
    for w in workers:
        w.start()
    totals = [results.get() for _ in workers]
    for w in workers:
        w.join()
    elapsed = time.time() - started
    return sum(t[0] for t in totals) / elapsed, sum(t[1] for t in totals)
