"""Serve the app for the browser tests: a fresh database, migrations, demo data.

Run as ``python e2e/serve.py WORKDIR PORT``. The app is built with the same
``create_app`` as production, migrated with ``flask db upgrade``'s code and
filled with ``flask demo load``'s data, then served by Werkzeug's threaded
server on 127.0.0.1 until the process is stopped.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from werkzeug.serving import make_server

from donations import create_app
from donations.extensions import db
from donations.jobs import registry  # noqa: F401 -- importing it declares every job
from donations.jobs.tracking import Heartbeat
from donations.queue import queue_of


def build_app(workdir: Path, port: int):
    """Return the app, configured as ``make run`` would configure it, in ``workdir``."""
    database = os.environ.get("E2E_DATABASE_URL") or f"sqlite:///{workdir / 'e2e.sqlite3'}"
    # Anything that builds an app from the environment (a `flask` command) gets this
    # server's key, mail folder and address, not instance/'s.
    os.environ.update(
        SECRET_KEY="e2e-secret-key-not-for-production",
        MAIL_EML_DIR=str(workdir / "mail"),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
    )
    return create_app(
        {
            "SECRET_KEY": "e2e-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": database,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "MAIL_SERVER": None,
            "MAIL_EML_DIR": str(workdir / "mail"),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "JOBS_SQLITE_PATH": str(workdir / "jobs.sqlite3"),
            # Five journeys sign in a dozen times within a minute from one address.
            "LOGIN_RATE_LIMIT": "500 per minute",
            "PLEDGE_RATE_LIMIT": "500 per minute",
            "GIVE_CHECKOUT_RATE_LIMIT": "500 per minute",
        }
    )


def prepare(app) -> None:
    """Migrate the empty database and load the demo data, as ``make run`` does."""
    from donations.demo import load_demo
    from donations.jobs.mail_worker import deliver_due

    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        load_demo()
        db.session.commit()
        deliver_due(app=app)


def start_consumer(app) -> None:
    """A job consumer beside the server (threads of this process), as `make run` starts one."""
    queue = queue_of(app)
    queue.register_all()
    consumer = queue.huey.create_consumer(
        workers=2, worker_type="thread", initial_delay=0.05, max_delay=0.5
    )
    # Not consumer.run(): that blocks and takes the process's signals.
    consumer.scheduler.start()
    for _worker, thread in consumer.worker_threads:
        thread.start()
    Heartbeat(app).start()


def main() -> None:
    workdir = Path(sys.argv[1])
    port = int(sys.argv[2])
    workdir.mkdir(parents=True, exist_ok=True)
    app = build_app(workdir, port)
    prepare(app)
    start_consumer(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(f"serving on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
