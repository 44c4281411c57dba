"""Safe defaults for every setting. No secrets live here.

Order of precedence, lowest first: this module, ``instance/config.py``, environment
variables, then the ``test_config`` mapping given to :func:`donations.create_app`.
"""

from __future__ import annotations

import base64
import os
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class Defaults:
    """Defaults applied to every app before the instance config and the environment."""

    # Set in instance/config.py (written by `make run`) or the SECRET_KEY variable.
    SECRET_KEY: str | None = None

    # Filled in by create_app from the instance folder when left empty.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}

    # Cookies: HttpOnly and SameSite=Lax always; Secure unless the app runs in
    # debug or testing mode (create_app decides when this is left as None).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    # Admins and treasurers are signed out after this long without a request.
    IDLE_TIMEOUT_MINUTES = 30
    # Whether a new organisation profile requires two-step sign-in of admins and
    # treasurers (and whether it applies before the profile is first saved). The
    # setting itself lives on the organisation page; the test suite starts it off.
    TWO_FACTOR_REQUIRED_BY_DEFAULT = True

    WTF_CSRF_TIME_LIMIT = 60 * 60 * 8
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024  # bytes; larger requests get a 413 page

    # Flask-Limiter's counters. None: REDIS_URL when that is set (counters shared by every
    # app server), else in-process counters ("memory://"). Any limits storage URI works.
    RATELIMIT_STORAGE_URI: str | None = None
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"
    GIVE_CHECKOUT_RATE_LIMIT = "20 per minute"  # per address: a brake on card testing
    PLEDGE_RATE_LIMIT = "10 per minute"  # per address: pledges are public and send mail
    # A pledge still open this many days after its expected day expires (the daily job at
    # 04:10 UTC); what arrived is kept. PLEDGE_EXPIRY_MAIL tells the pledger.
    PLEDGE_EXPIRY_DAYS = 14
    PLEDGE_EXPIRY_MAIL = True

    # Mail. With no MAIL_SERVER, messages are written as .eml files under
    # instance/mail/ instead of being sent.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS after connecting
    MAIL_USE_SSL = False  # implicit TLS (usually port 465)
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "donations@localhost"
    MAIL_TIMEOUT = 20
    MAIL_MAX_ATTEMPTS = 8
    # Send queued mail right after the request that queued it commits. When
    # false, only `flask mail work` sends.
    MAIL_SEND_AFTER_COMMIT = True
    MAIL_EML_DIR: str | None = None  # default: <instance>/mail

    PASSWORD_RESET_MAX_AGE = 60 * 60  # seconds a reset link stays valid
    PASSWORD_MIN_LENGTH = 10
    # werkzeug's hasher; the tests use a cheaper pbkdf2 setting to stay fast.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)

    DONORS_PER_PAGE = 25
    GIFTS_PER_PAGE = 50

    # The site's address, e.g. https://give.example.org: every absolute link (mail,
    # PDFs and their QR codes, magic links, password resets, Stripe return URLs) is
    # built on it, never on a request's Host header, and TRUSTED_HOSTS is set from it
    # (another Host gets a 400). Unset, `flask` commands use DEFAULT_PUBLIC_BASE_URL,
    # `make run` sets it from PORT and gunicorn (wsgi.py) refuses to start.
    PUBLIC_BASE_URL: str | None = None
    # Hosts Flask accepts in the Host header; None means just PUBLIC_BASE_URL's host.
    TRUSTED_HOSTS: list[str] | None = None
    # Host names (comma-separated) that member organisations may serve their pages at
    # (donate.northstar.example): accepted as Host too, and each mapped by an admin of
    # one organisation under Organisation settings. Links to a mapped organisation use it.
    ORGANIZATION_HOSTS: str | list[str] = ""

    # Stripe. With no STRIPE_SECRET_KEY the site runs in test mode: checkout
    # goes to a local test payment page that sends signed events through the
    # same webhook code.
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_PUBLISHABLE_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_BASE = "https://api.stripe.com"
    STRIPE_API_VERSION = "2026-10-28.endive"
    STRIPE_TIMEOUT = 20
    STRIPE_MAX_NETWORK_RETRIES = 2
    STRIPE_WEBHOOK_TOLERANCE = 300

    # Keys that encrypt each organisation's stored secrets (its Stripe keys): Fernet keys,
    # comma-separated, newest first (the first encrypts, every one decrypts; `flask secrets
    # rotate` re-encrypts with the first). Unset, testing and development derive one from
    # SECRET_KEY and a production site refuses to store secrets (services/secret_box.py).
    DATA_KEYS: tuple[str, ...] = ()

    # Test-mode receipts: None follows the payments mode (a test receipt unless
    # STRIPE_SECRET_KEY is a live key); True or False decides outright. Test
    # receipts get "TEST-" numbers of their own series and a "not a tax receipt" mark.
    RECEIPTS_TEST_MODE: bool | None = None

    # Background jobs (Huey). With REDIS_URL (e.g. redis://127.0.0.1:6379/0) the queue
    # lives in Redis, so consumers on several machines share it; without it the queue is
    # a SQLite file, JOBS_SQLITE_PATH (default <instance>/jobs.sqlite3), for one machine.
    # `flask jobs work` is the consumer that runs the jobs; `make run` starts one.
    REDIS_URL: str | None = None
    JOBS_SQLITE_PATH: str | None = None
    # True runs each job inline as it is enqueued, with no consumer (the test suite).
    JOBS_IMMEDIATE = False

    # Stripe's webhook deliveries wait for the consumer in a spool of their own, so a
    # delivery never waits for the database's write lock: by default a file beside a
    # SQLite database (<database>.stripe-spool), none on PostgreSQL (it locks rows, and the
    # event goes straight into stripe_events). A path here puts the spool there instead.
    STRIPE_SPOOL_PATH: str | None = None

    # Backups: `flask backup` and, when BACKUP_NIGHTLY, a job at 02:30 UTC write a copy of
    # the database to BACKUP_DIR (default <instance>/backups) and keep the newest BACKUP_KEEP.
    BACKUP_DIR: str | None = None
    BACKUP_KEEP = 14
    BACKUP_NIGHTLY = True


# Environment variables read by create_app, with the type each is parsed as.
ENV_SETTINGS: dict[str, type] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "SESSION_COOKIE_SECURE": bool,
    "IDLE_TIMEOUT_MINUTES": int,
    "RATELIMIT_STORAGE_URI": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": bool,
    "MAIL_USE_SSL": bool,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_DEFAULT_SENDER": str,
    "MAIL_SEND_AFTER_COMMIT": bool,
    "MAIL_EML_DIR": str,
    "PUBLIC_BASE_URL": str,
    "STRIPE_SECRET_KEY": str,
    "STRIPE_PUBLISHABLE_KEY": str,
    "STRIPE_WEBHOOK_SECRET": str,
    "STRIPE_API_BASE": str,
    "STRIPE_API_VERSION": str,
    "RECEIPTS_TEST_MODE": bool,
    "DATA_KEYS": str,
    "PLEDGE_EXPIRY_DAYS": int,
    "PLEDGE_EXPIRY_MAIL": bool,
    "REDIS_URL": str,
    "JOBS_SQLITE_PATH": str,
    "JOBS_IMMEDIATE": bool,
    "STRIPE_SPOOL_PATH": str,
    "BACKUP_DIR": str,
    "BACKUP_KEEP": int,
    "BACKUP_NIGHTLY": bool,
    "ORGANIZATION_HOSTS": str,
}

DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse(name: str, raw: str, kind: type) -> Any:
    if kind is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"{name} must be true or false, not {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    return raw


def settings_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the settings given by environment variables, parsed."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name, kind in ENV_SETTINGS.items():
        if name in environ:
            key = "SQLALCHEMY_DATABASE_URI" if name == "DATABASE_URL" else name
            found[key] = _parse(name, environ[name], kind)
    return found


def normalize_public_base_url(url: str) -> str:
    """Check the site's address and drop a trailing slash: ``https://host[:port][/prefix]``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "PUBLIC_BASE_URL must be an http(s) address such as "
            f"https://give.example.org, not {url!r}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"PUBLIC_BASE_URL must be only scheme, host, port and path, not {url!r}")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def parse_hosts(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The ORGANIZATION_HOSTS as lower-case host names (comma-separated text or a list)."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    hosts = tuple(dict.fromkeys(str(item).strip().lower() for item in items if str(item).strip()))
    for host in hosts:
        if not HOST_RE.match(host):
            raise ValueError(f"ORGANIZATION_HOSTS: {host!r} is not a host name")
    return hosts


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST_RE = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


def trusted_hosts_for(public_base_url: str) -> list[str]:
    """The Host header values to accept: the public address's host name."""
    hostname = urlsplit(public_base_url).hostname
    return [hostname] if hostname else []


def parse_data_keys(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Return the DATA_KEYS as a tuple of Fernet keys, newest first, each checked.

    Takes the variable's comma-separated text or a list (from ``instance/config.py``). A key
    that is not 32 bytes in URL-safe base64 is refused by its position, never its value.
    """
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    keys = tuple(str(item).strip() for item in items if str(item).strip())
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32:
            raise ValueError(
                f"DATA_KEYS: key {position} of {len(keys)} is not a Fernet key (32 bytes in "
                "URL-safe base64); make one with: python3 -c 'from cryptography.fernet import "
                "Fernet; print(Fernet.generate_key().decode())'"
            )
    return keys


def normalize_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
