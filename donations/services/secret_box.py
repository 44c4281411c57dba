"""Encrypt short secrets at rest with the DATA_KEYS (Fernet keys, newest first).

A ``MultiFernet`` over the configured keys: the first key encrypts, any key decrypts, and
``rotate_token`` re-encrypts a token with the first. The keys come from the ``DATA_KEYS``
setting (``create_app`` parses and checks them). Without it, a test run or a development
install (debug on, or PUBLIC_BASE_URL on a loopback address as ``make run`` sets it) derives one key
from ``SECRET_KEY`` with HKDF-SHA256, so nothing is needed to try the app; a production
site refuses to store or read secrets until DATA_KEYS is set.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

from donations.services.errors import DomainError

_CACHE_KEY = "donations.secret_box"
# HKDF's context: a key derived for these secrets is good for nothing else.
_DERIVE_INFO = b"donations organisation secrets v1"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SecretsUnavailable(DomainError):
    """No key to encrypt or decrypt with: DATA_KEYS is not set on a production site."""


class SecretUnreadable(DomainError):
    """A stored secret that none of the DATA_KEYS opens."""


def derive_key(secret_key: str) -> bytes:
    """Return the Fernet key derived from SECRET_KEY (testing and development only)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DERIVE_INFO).derive(
        secret_key.encode("utf-8")
    )
    return base64.urlsafe_b64encode(raw)


def is_development(app: Flask) -> bool:
    """True for a test run, debug mode, or a site served only on this machine (``make run``).

    The loopback address must be configured (``make run`` sets PUBLIC_BASE_URL): the default
    that plain ``flask`` commands fall back to says nothing about where the site runs.
    """
    if app.testing or app.debug:
        return True
    if app.config.get("PUBLIC_BASE_URL_IS_DEFAULT"):
        return False
    host = urlsplit(app.config.get("PUBLIC_BASE_URL") or "").hostname or ""
    return host in _LOOPBACK


def key_source(app: Flask | None = None) -> str:
    """Where the keys come from: "DATA_KEYS", "SECRET_KEY" (derived) or "" (none: refused)."""
    app = app or current_app
    if app.config.get("DATA_KEYS"):
        return "DATA_KEYS"
    if is_development(app) and not app.config.get("SECRET_KEY_IS_EPHEMERAL"):
        return "SECRET_KEY"
    return ""


def _keys(app: Flask) -> tuple[bytes, ...]:
    source = key_source(app)
    if source == "DATA_KEYS":
        return tuple(key.encode("ascii") for key in app.config["DATA_KEYS"])
    if source == "SECRET_KEY":
        return (derive_key(str(app.config["SECRET_KEY"])),)
    if app.config.get("SECRET_KEY_IS_EPHEMERAL") and is_development(app):
        raise SecretsUnavailable(
            "Secrets cannot be stored: neither DATA_KEYS nor SECRET_KEY is set, and a key "
            "made up for this run would be lost at the next start. Set DATA_KEYS (see the "
            "README, 'Stored secrets')."
        )
    raise SecretsUnavailable(
        "Secrets cannot be stored or read: DATA_KEYS is not set. Set it to one or more "
        "Fernet keys, newest first (see the README, 'Stored secrets'), and restart."
    )


def _box() -> MultiFernet:
    """The MultiFernet of the app's keys, built once per set of keys."""
    app = current_app._get_current_object()
    keys = _keys(app)
    cached = app.extensions.get(_CACHE_KEY)
    if cached is None or cached[0] != keys:
        cached = (keys, MultiFernet([Fernet(key) for key in keys]))
        app.extensions[_CACHE_KEY] = cached
    return cached[1]


def _unreadable() -> SecretUnreadable:
    return SecretUnreadable(
        "A stored secret cannot be read with the keys in DATA_KEYS: the key it was "
        "encrypted with has been removed or changed. Put that key back at the end of "
        "DATA_KEYS, or enter the secret again."
    )


def encrypt_text(text: str) -> str:
    """Encrypt ``text`` with the newest key; return the token as text."""
    return _box().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    """Return the text of a token made by ``encrypt_text`` with any of the keys.

    Raises SecretUnreadable when no key opens it (or it is not a token at all).
    """
    try:
        return _box().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise _unreadable() from None


def is_current(token: str) -> bool:
    """True when the newest key opens ``token``: rotating it would change nothing."""
    newest = _keys(current_app)[0]
    try:
        Fernet(newest).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def rotate_token(token: str) -> str:
    """Re-encrypt ``token`` with the newest key (it must open with one of the keys)."""
    try:
        return _box().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise _unreadable() from None
