"""The donations web app: ``create_app`` builds it."""

from __future__ import annotations

import gc

# Importing the package allocates some 220,000 objects that live as long as the process
# (modules, classes, functions, SQL constructs) and frees almost none, yet the cyclic
# garbage collector made three full passes over them while they were made, and would scan
# them again in every full pass after: about 0.15 s of a 0.8 s start. So it is paused
# while the package is imported, and what exists then is frozen (left out of every later
# collection) before it resumes. wsgi.py freezes the served app too, which lives as long
# as its worker.
_COLLECTING_AT_IMPORT = gc.isenabled()
gc.disable()
try:
    import logging
    import os
    import secrets
    import sqlite3
    from collections.abc import Mapping
    from importlib import import_module
    from typing import Any

    from flask import Flask
    from flask.globals import request_ctx
    from flask_limiter import Limiter
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from donations import cookie_session
    from donations.app_class import DonationsFlask
    from donations.config import (
        DEFAULT_PUBLIC_BASE_URL,
        Defaults,
        normalize_database_url,
        normalize_public_base_url,
        parse_data_keys,
        parse_hosts,
        settings_from_env,
        trusted_hosts_for,
    )
    from donations.extensions import csrf, db, limiter, login_manager
    from donations.migrate_cli import init_migrate
    from donations.prepared_statements import install_read_only_commit
    from donations.queue import init_queue
    from donations.quiet_ping import install_quiet_ping
    from donations.ranges import RowIdConverter
    from donations.row_security import install_row_security
    from donations.security_headers import add_security_headers
    from donations.tenancy import install_scoping
finally:
    gc.freeze()
    if _COLLECTING_AT_IMPORT:
        gc.enable()

log = logging.getLogger(__name__)

BLUEPRINTS = (
    "donations.blueprints.main",
    "donations.blueprints.auth",
    "donations.blueprints.admin",
    "donations.blueprints.donors",
    "donations.blueprints.webhooks",
    "donations.blueprints.gifts",
    "donations.blueprints.give",
    "donations.blueprints.campaigns",
    "donations.blueprints.campaigns_admin",
    "donations.blueprints.campaign_reports",
    "donations.blueprints.supporter_public",
    "donations.blueprints.supporter_pages_admin",
    "donations.blueprints.funds_admin",
    "donations.blueprints.inventory",
    "donations.blueprints.movements",
    "donations.blueprints.catalog",
    "donations.blueprints.needs",
    "donations.blueprints.inventory_files",
    "donations.blueprints.receipts",
    "donations.blueprints.receipts_public",
    "donations.blueprints.year_end",
    "donations.blueprints.reports",
    "donations.blueprints.recipients",
    "donations.blueprints.background_jobs",
    "donations.blueprints.partner_requests",
    "donations.blueprints.goods_requests",
    "donations.blueprints.coalition",
    "donations.blueprints.coalition_admin",
    "donations.blueprints.surplus",
    "donations.blueprints.volunteer_public",
    "donations.blueprints.volunteers",
    "donations.blueprints.volunteer_shifts",
)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, then extensions, then blueprints.

    The modules that load services (cli, errors, templating, authz, mail) are
    imported inside the factory on purpose: importing the package, as a worker
    process, Alembic or a test of one module does, must not load the whole app.
    """
    app = DonationsFlask(__name__, instance_relative_config=True)
    _load_config(app, test_config)
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)

    from donations import cli, errors, templating  # noqa: PLC0415 -- see create_app

    errors.register(app)
    templating.register(app)
    cli.register(app)

    from donations.authz import check_every_view_declares_access  # noqa: PLC0415 -- see create_app
    from donations.jobs import registry  # noqa: F401, PLC0415 -- declares every job

    check_every_view_declares_access(app)
    return app


def _load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(settings_from_env())
    if test_config:
        app.config.update(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        uri = "sqlite:///" + os.path.join(app.instance_path, "donations.sqlite3")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(uri)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file, not a server: no connection to lose, so no ping before each checkout.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    if not app.config.get("SECRET_KEY"):
        # Enough for a command such as `flask db upgrade`; wsgi.py refuses to
        # serve with it, since sessions would not survive a restart.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.config["SECRET_KEY_IS_EPHEMERAL"] = True
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        secure = not (app.debug or app.testing)
        app.config["SESSION_COOKIE_SECURE"] = secure
        app.config.setdefault("REMEMBER_COOKIE_SECURE", secure)
    if not app.config.get("PUBLIC_BASE_URL"):
        # Enough for `flask` commands and `flask run` on the default port; wsgi.py
        # refuses to serve without a configured address.
        app.config["PUBLIC_BASE_URL"] = DEFAULT_PUBLIC_BASE_URL
        app.config["PUBLIC_BASE_URL_IS_DEFAULT"] = True
    app.config["PUBLIC_BASE_URL"] = normalize_public_base_url(app.config["PUBLIC_BASE_URL"])
    app.config["ORGANIZATION_HOSTS"] = parse_hosts(app.config.get("ORGANIZATION_HOSTS"))
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts_for(app.config["PUBLIC_BASE_URL"]) + list(
            app.config["ORGANIZATION_HOSTS"]
        )
    app.config["DATA_KEYS"] = parse_data_keys(app.config.get("DATA_KEYS"))
    if not app.config.get("MAIL_EML_DIR"):
        app.config["MAIL_EML_DIR"] = os.path.join(app.instance_path, "mail")


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    install_scoping()  # every ORM statement sees the current organisation's rows only
    with app.app_context():  # PostgreSQL: the row security policies see it too
        for engine in db.engines.values():
            install_row_security(engine)
            install_read_only_commit(engine)  # prepared statements outlive a request
            install_quiet_ping(engine)  # a connection lent without a round trip
    init_migrate(
        app, db, directory=os.path.abspath(os.path.join(app.root_path, os.pardir, "migrations"))
    )
    csrf.init_app(app)
    _check_csrf_only_on_unsafe_methods(app)
    cookie_session.install(app)  # after Flask-WTF: its csrf_token() is replaced
    init_queue(app)  # before the limiter: its storage follows REDIS_URL
    limiter.init_app(app)
    _check_rate_limits_only_where_declared(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"

    from donations.authz import load_user  # noqa: PLC0415 -- see create_app

    login_manager.user_loader(load_user)


def _check_rate_limits_only_where_declared(app: Flask) -> None:
    """Keep Flask-Limiter's per-request hooks off requests that have no limit to check.

    Every limit here is a decorator on its view, which checks it when the view is called.
    The limiter's own before_request hook evaluates default, application and meta limits
    (none are configured unless RATELIMIT_DEFAULT / _APPLICATION / _META are set), and its
    after_request and teardown hooks read back what a check stored on the request; on a
    request that checked nothing the three cost more than many a page (~90 us). They run
    only when there is something for them to do.
    """
    before, after, teardown = (
        app.before_request_funcs[None],
        app.after_request_funcs[None],
        app.teardown_request_funcs[None],
    )
    check, inject, release = before[-1], after[-1], teardown[-1]
    if getattr(check, "__func__", None) is not Limiter._check_request_limit:
        return  # not the hooks this was written for: leave them as they are
    manager = limiter.limit_manager
    if not (
        manager.default_limits or manager.application_limits or app.config.get("RATELIMIT_META")
    ):
        before.remove(check)

    def checked() -> bool:  # a limit was evaluated during this request
        return hasattr(request_ctx._get_current_object(), "_limiter_request_context")

    def inject_headers(response):
        return inject(response) if checked() else response

    def release_context(error: BaseException | None = None) -> None:
        if checked():
            release(error)

    after[-1], teardown[-1] = inject_headers, release_context


def _check_csrf_only_on_unsafe_methods(app: Flask) -> None:
    """Run Flask-WTF's CSRF hook only on the methods it checks (WTF_CSRF_METHODS).

    Its hook looks up the view's exemptions before it looks at the method, so every GET
    paid for that lookup and then returned without checking anything. The same hook runs,
    unchanged, for a POST, PUT, PATCH or DELETE.
    """
    before = app.before_request_funcs[None]
    protect = before[-1]
    if getattr(protect, "__qualname__", "") != "CSRFProtect.init_app.<locals>.csrf_protect":
        return  # not the hook this was written for: leave it as it is

    def csrf_protect() -> None:
        if request_ctx.request.method in app.config["WTF_CSRF_METHODS"]:
            protect()

    before[-1] = csrf_protect


def _register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter

    for name in BLUEPRINTS:
        app.register_blueprint(import_module(name).bp)


def _register_hooks(app: Flask) -> None:
    from donations.authz import enforce_access  # noqa: PLC0415 -- see create_app
    from donations.org_addresses import (  # noqa: PLC0415 -- see create_app
        OrgPathMiddleware,
        resolve_organization,
    )

    app.wsgi_app = OrgPathMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    # First of all hooks: the session, the limits and the page read the organisation.
    app.before_request_funcs.setdefault(None, []).insert(0, resolve_organization)
    app.before_request(enforce_access)

    app.after_request(add_security_headers)  # a view's own header wins

    from donations.jobs import mail_worker  # noqa: PLC0415 -- see create_app

    mail_worker.register_after_commit_delivery(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Turn on foreign keys and wait for locks on every SQLite connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        # In WAL mode NORMAL is crash-safe (a power cut may lose the last commits).
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Pages read through a memory map and a larger page cache: one organisation's rows
        # among many others' are read as fast as alone (bench/bench_coalition.py).
        cursor.execute("PRAGMA cache_size=-32768")  # 32 MiB per connection
        cursor.execute("PRAGMA mmap_size=268435456")  # up to 256 MiB of the file mapped
        cursor.close()
