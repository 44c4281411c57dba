"""Fixtures: an app on a clean database per test, clients signed in per role,
factories for rows, and a real SMTP server on loopback.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL
is set (``.ci/run`` does both). Under pytest-xdist (``make test`` runs ``-n auto``)
each worker has a database of its own: a temporary SQLite file, or on PostgreSQL
``<database>_<worker>`` (e.g. ``donations_test_gw0``) on the same server, created
when missing.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from werkzeug.routing import Rule

from donations import create_app
from donations.config import normalize_database_url
from donations.extensions import db, limiter
from donations.models import Donor, Item, Role, Site, User
from donations.queue import queue_of
from donations.services import accounts, catalog, donors, inventory, recipients, user_sessions
from donations.services.organization import update_organization
from donations.services.stripe_events.spool import current_spool

pytest_plugins = ["stripe_fixtures", "volunteers_support"]

PASSWORD = "correct horse battery"


def pytest_report_header(config) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return (
        f"database: {'PostgreSQL ' + url.rsplit('@', 1)[-1] if url else 'SQLite (temporary file)'}"
    )


def pytest_collection_modifyitems(config, items) -> None:
    if os.environ.get("TEST_DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def worker_database_url(url: str, worker: str | None) -> str:
    """The PostgreSQL database of one xdist worker: ``<database>_<worker>``.

    Created (owner: the URL's user) through the server's ``postgres`` maintenance
    database when missing. Without xdist (``worker`` None) the URL is used as given.
    """
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                try:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                except ProgrammingError as error:  # made meanwhile by another run
                    if "already exists" not in str(error):
                        raise
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return worker_database_url(
            normalize_database_url(url), os.environ.get("PYTEST_XDIST_WORKER")
        )
    # tmp_path_factory's base folder is already one per xdist worker.
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def base_config(database_url: str, tmp_path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "MAIL_SERVER": None,
        "MAIL_EML_DIR": str(tmp_path / "mail"),
        "MAIL_DEFAULT_SENDER": "Harbor Light <giving@harborlight.test>",
        "SERVER_NAME": "donations.test",
        # Every absolute link is built on it, and TRUSTED_HOSTS (from it) accepts the
        # test client's host.
        "PUBLIC_BASE_URL": "http://donations.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PASSWORD_MIN_LENGTH": 10,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # Two-step sign-in is on for a real installation; tests/test_two_factor.py
        # turns it on where it is what the test is about.
        "TWO_FACTOR_REQUIRED_BY_DEFAULT": False,
        # The suite runs without a Stripe key; its receipts use the live number series
        # (tests/test_test_mode_marks.py covers the test series).
        "RECEIPTS_TEST_MODE": False,
        # Background jobs run inline as they are enqueued; tests/test_queue.py runs a
        # real consumer where that is what the test is about.
        "JOBS_IMMEDIATE": True,
        "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite3"),
        "BACKUP_DIR": str(tmp_path / "backups"),
    }


@contextmanager
def engine_statements() -> Iterator[list[str]]:
    """Every statement the app's engine sends inside the block, in order."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def sent_statements(monkeypatch) -> list[str]:
    """Every statement sent on a psycopg cursor (PostgreSQL) from now on, in order."""
    import psycopg

    statements: list[str] = []
    real = psycopg.Cursor.execute

    def execute(self, query, *args, **kwargs):
        statements.append(str(query))
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    return statements


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory) -> None:
    """Create the schema once per run from the models."""
    app = create_app(base_config(database_url, tmp_path_factory.mktemp("schema")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()


def clean_database() -> None:
    """Remove every row, so each test starts from an empty database."""
    # DELETE is much faster than TRUNCATE on PostgreSQL for tables this small,
    # but there a trigger refuses DELETE on the audit log; TRUNCATE fires no
    # row trigger.
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("TRUNCATE audit_events"))
    for table in reversed(db.metadata.sorted_tables):
        if not (postgres and table.name == "audit_events"):
            db.session.execute(table.delete())
    db.session.commit()
    spool = current_spool()  # Stripe deliveries waiting beside the database
    if spool is not None:
        spool.clear()


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app the suite builds (one per test)."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SharedBytecodeCache()


def _share_url_builders() -> None:
    """Compile each URL rule's builder once per run instead of once per app.

    Werkzeug compiles two small Python functions per URL rule when an app
    registers it; with one app per test that was half of the suite's time. The
    compiled function depends only on the rule's text, its parts and defaults
    (converters are looked up on the bound rule when it runs), so identical
    rules of later apps reuse it.
    """
    compile_builder = Rule._compile_builder
    cache: dict[tuple[Any, ...], Any] = {}

    def cached(self: Rule, append_unknown: bool = True):
        defaults = tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items()))
        key = (self.rule, tuple(self._trace), defaults, append_unknown)
        if key not in cache:
            cache[key] = compile_builder(self, append_unknown)
        return cache[key]

    Rule._compile_builder = cached  # type: ignore[method-assign]


_share_url_builders()


class ContextClient(FlaskClient):
    """A test client whose every request gets its own app context.

    In production each request has its own ``g`` and database session; the
    test keeps an app context open for its own queries, so without this all
    requests of a test would share one ``g`` (and one signed-in user).
    After each request the test's own session forgets what it had loaded.
    """

    def open(self, *args: Any, **kwargs: Any):
        # buffered: read the whole response and close it, as a real server
        # does, so work registered with response.call_on_close runs.
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


@pytest.fixture
def make_app(database_url, _schema, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build an app on the test database with extra config."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        config = base_config(database_url, tmp_path)
        config.update(overrides)
        app = create_app(config)
        app.test_client_class = ContextClient
        app.jinja_env.bytecode_cache = TEMPLATE_CACHE
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        clean_database()
        limiter.reset()
        yield app
        db.session.remove()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


# --- factories -----------------------------------------------------------


@pytest.fixture
def create_user(app) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(
        role: Role | str = Role.STAFF,
        *,
        email: str | None = None,
        name: str | None = None,
        password: str = PASSWORD,
        active: bool = True,
        recipient_id: int | None = None,
    ) -> User:
        n = next(counter)
        role = Role(role)
        if role == Role.PARTNER and recipient_id is None:  # a partner login needs its agency
            agency = recipients.create_recipient(
                actor=None, kind="partner", name=f"Fixture partner agency {n}"
            )
            recipient_id = agency.id
        user = accounts.create_user(
            actor=None,
            email=email or f"{role.value}{n}@example.org",
            name=name or f"{role.label} {n}",
            role=role,
            password=password,
            recipient_id=recipient_id,
        )
        if not active:
            user.active = False
        db.session.commit()
        return user

    return make


@pytest.fixture
def create_donor(app) -> Callable[..., Donor]:
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, **fields: Any) -> Donor:
        n = next(counter)
        fields.setdefault("email", f"donor{n}@example.com")
        donor = donors.create_donor(actor=None, name=name or f"Donor {n}", **fields)
        db.session.commit()
        return donor

    return make


@dataclasses.dataclass
class Goods:
    """A seeded catalog and three sites: a confidential shelter, a warehouse, a drop-off."""

    shelter: Site
    warehouse: Site
    dropoff: Site
    items: dict[str, Item]  # by code, e.g. items["SOCKS-M"]

    def line(self, code: str, quantity: int, condition: str = "") -> inventory.Line:
        return inventory.Line(self.items[code].id, quantity, condition)


@pytest.fixture
def goods(app) -> Goods:
    """The standard catalog plus three sites, committed."""
    catalog.seed_catalog()
    shelter = catalog.create_site(
        actor=None,
        name="Harbor House",
        kind="shelter",
        is_confidential=True,
        address_line1="12 Hidden Lane",
        city="Springfield",
        contact_email="house@harborlight.test",
    )
    warehouse = catalog.create_site(
        actor=None, name="Main warehouse", kind="warehouse", address_line1="400 Dock Rd"
    )
    dropoff = catalog.create_site(
        actor=None,
        name="Downtown drop-off",
        kind="dropoff",
        address_line1="5 Market St",
        city="Springfield",
        public_hours="Mon-Fri 9-5",
    )
    # Distributions pick one of these records (issue 11: never free text).
    for kind, name in (
        ("program", "Street outreach"),
        ("program", "Outreach program"),
        ("program", "Youth program"),
        ("partner", "Safe Passage clinic"),
        ("partner", "Legal advocacy partner"),
    ):
        recipients.create_recipient(actor=None, kind=kind, name=name)
    db.session.commit()
    items = {i.code: i for i in db.session.scalars(select(Item).order_by(Item.id))}
    return Goods(shelter, warehouse, dropoff, items)


@pytest.fixture
def stock_in(goods) -> Callable[..., None]:
    """Put goods on a site's shelf with a committed anonymous intake: stock_in(site, SOAP=5)."""

    def put(site: Site | None = None, **quantities: int) -> None:
        lines = [goods.line(code.replace("_", "-"), q, "new") for code, q in quantities.items()]
        inventory.record_intake(
            actor=None,
            site_id=(site or goods.shelter).id,
            effective_date=date.today(),
            source="anonymous",
            lines=lines,
        )
        db.session.commit()

    return put


@pytest.fixture
def organization(app):
    return set_up_organization()


def set_up_organization():
    """The organisation's legal details saved (receipts need its legal name); return it."""
    org = update_organization(
        actor=None,
        legal_name="Harbor Light Shelter, Inc.",
        tax_id="12-3456789",
        address_line1="PO Box 4410",
        city="Springfield",
        region="IL",
        postal_code="62701",
        country="United States",
        default_currency="USD",
        fiscal_year_start_month=1,
    )
    db.session.commit()
    return org


# --- signed-in clients ---------------------------------------------------


def sign_in(client: FlaskClient, user: User) -> FlaskClient:
    """Mark the client's session as signed in as ``user`` (no form round trip)."""
    session_id = user_sessions.start_session(user=user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


@pytest.fixture
def login(app, create_user) -> Callable[..., FlaskClient]:
    """Return a new client signed in with a new user of the given role."""

    def as_role(role: Role | str, **kwargs: Any) -> FlaskClient:
        user = create_user(role, **kwargs)
        client = app.test_client()
        sign_in(client, user)
        client.user = user  # type: ignore[attr-defined]
        return client

    return as_role


@pytest.fixture
def admin_client(login) -> FlaskClient:
    return login(Role.ADMIN)


@pytest.fixture
def treasurer_client(login) -> FlaskClient:
    return login(Role.TREASURER)


@pytest.fixture
def staff_client(login) -> FlaskClient:
    return login(Role.STAFF)


# --- a real SMTP server on loopback -------------------------------------


class RecordingHandler:
    """aiosmtpd handler that keeps every message, or refuses on request."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.refuse_with: str | None = None  # e.g. "451 4.3.0 try again later"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_with:
            return self.refuse_with
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
        self.refuse_with = None


def free_port() -> int:
    """Return a loopback port that nobody listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp(handler: Any, attempts: int = 5) -> Controller:
    """Start an aiosmtpd server for ``handler`` on a free loopback port.

    aiosmtpd needs the port number up front; with the suite's xdist workers (and
    other programs) taking ports meanwhile, a port found free may be gone when the
    server binds it, so try another.
    """
    for attempt in range(attempts):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        try:
            controller.start()
        except OSError:
            if attempt == attempts - 1:
                raise
            continue
        return controller
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, RecordingHandler]]:
    handler = RecordingHandler()
    controller = start_smtp(handler)
    try:
        yield controller, handler
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_server, app) -> RecordingHandler:
    """Point the app at the loopback SMTP server; return its recorded messages."""
    controller, handler = smtp_server
    handler.reset()
    app.config["MAIL_SERVER"] = "127.0.0.1"
    app.config["MAIL_PORT"] = controller.port
    return handler


# --- the job queue, for real ------------------------------------------------------


@pytest.fixture
def queued_app(make_app, tmp_path) -> Iterator[Flask]:
    """An app whose jobs go on a real SQLite queue file (not run inline), in its context."""
    app = make_app(JOBS_IMMEDIATE=False, JOBS_SQLITE_PATH=str(tmp_path / "queue.sqlite3"))
    with app.app_context():
        clean_database()
        limiter.reset()
        yield app
        db.session.remove()


def drain_queue(app: Flask) -> int:
    """Run what the app's queue holds, as a consumer would, until it is empty; return how many."""
    huey = queue_of(app).huey
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    db.session.rollback()
    db.session.expire_all()
    return ran


def wait_for(check: Callable[[], object], timeout: float = 20.0) -> object:
    """Look at the database until ``check`` is true, with a fresh snapshot each time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        db.session.expire_all()
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


@contextmanager
def empty_database(database_url: str, tmp_path: Any, name: str) -> Iterator[str]:
    """The URL of a new, empty database called ``name`` beside the suite's (dropped after)."""
    if not is_postgres(database_url):
        yield "sqlite:///" + str(tmp_path / f"{name}.sqlite3")
        return
    url = make_url(database_url)
    database = f"{url.database}_{name}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
