"""The signed session cookie and the CSRF token, with their signers made once.

Flask's cookie session builds an itsdangerous serializer (key list, salt, signer options)
on every request, twice when it sets a cookie, and Flask-WTF's ``generate_csrf`` builds
one each time it makes a token: on a busy public page (``/give``) that was a good part of
what a request costs beside a bare page. These are the same classes, cookies and tokens,
with the serializers kept per secret key and their signers' derived keys worked out once
(HMAC-SHA1 in one OpenSSL call): a cookie or token made here is read by Flask and
Flask-WTF as their own, and the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, current_app, g, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf import csrf as flask_wtf_csrf
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.signer import HMACAlgorithm

CSRF_SALT = "wtf-csrf-token"  # Flask-WTF's: validate_csrf reads the tokens made here


class _OneShotHMAC(HMACAlgorithm):
    """HMAC-SHA1 in one call into OpenSSL: the same signature as itsdangerous' own."""

    def __init__(self) -> None:
        super().__init__(hashlib.sha1)

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, "sha1")


_ONE_SHOT_HMAC = _OneShotHMAC()
_DERIVED: dict[tuple, bytes] = {}


class _KeptKeySigner(TimestampSigner):
    """itsdangerous' timestamp signer, its derived key worked out once per secret key.

    The derived key is a pure function of (secret key, salt, derivation, digest); the
    stock signer, made anew by the serializer for every call, works it out every time.
    Only SHA-1 (both Flask's and Flask-WTF's choice) is ever passed here.
    """

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = (self.secret_keys[-1] if secret_key is None else secret_key, self.salt)
        derived = _DERIVED.get((*key, self.key_derivation))
        if derived is None:
            if len(_DERIVED) >= 32:
                _DERIVED.clear()
            derived = _DERIVED[(*key, self.key_derivation)] = super().derive_key(secret_key)
        return derived


_SIGNER_KWARGS = {"digest_method": hashlib.sha1, "algorithm": _ONE_SHOT_HMAC}


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, its serializer made once per secret key (and fallbacks)."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            if not app.secret_key:
                return None
            serializer = URLSafeTimedSerializer(
                [*key[1], key[0]],  # itsdangerous expects the current key last
                salt=self.salt,
                serializer=self.serializer,
                signer=_KeptKeySigner,
                signer_kwargs={**_SIGNER_KWARGS, "key_derivation": self.key_derivation},
            )
            if len(self._serializers) >= 8:  # a rotated key: forget the old ones
                self._serializers.clear()
            self._serializers[key] = serializer
        return serializer


_csrf_serializers: dict[str | bytes, URLSafeTimedSerializer] = {}


def _csrf_serializer(secret_key: str | bytes) -> URLSafeTimedSerializer:
    serializer = _csrf_serializers.get(secret_key)
    if serializer is None:
        if len(_csrf_serializers) >= 8:
            _csrf_serializers.clear()
        serializer = _csrf_serializers[secret_key] = URLSafeTimedSerializer(
            secret_key, salt=CSRF_SALT, signer=_KeptKeySigner, signer_kwargs=_SIGNER_KWARGS
        )
    return serializer


def generate_csrf() -> str:
    """Return this visitor's signed CSRF token, as ``flask_wtf.csrf.generate_csrf()`` does.

    The same raw token in the session under ``WTF_CSRF_FIELD_NAME``, the same signature
    (``WTF_CSRF_SECRET_KEY`` or ``SECRET_KEY``, Flask-WTF's salt), the same token kept in
    ``g`` for the rest of the request, so forms and ``validate_csrf`` agree with it.
    """
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    token = g.get(field)
    if token is None:
        secret_key = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        if not secret_key:
            raise RuntimeError("A secret key is required to use CSRF.")
        if field not in session:
            session[field] = secrets.token_hex(20)  # 40 hex digits, as Flask-WTF's sha1
        serializer = _csrf_serializer(secret_key)
        try:
            token = serializer.dumps(session[field])
        except TypeError:
            session[field] = secrets.token_hex(20)
            token = serializer.dumps(session[field])
        setattr(g, field, token)
    return token


def install(app: Flask) -> None:
    """Use the cookie session above, and ``generate_csrf`` for ``csrf_token()`` in templates.

    Flask-WTF offers ``csrf_token`` both as a Jinja global and from a context processor
    run before every template; the global is enough, so that processor is dropped.
    """
    app.session_interface = CookieSessionInterface()
    app.jinja_env.globals["csrf_token"] = generate_csrf
    processors = app.template_context_processors[None]
    for processor in list(processors):
        if getattr(processor, "__module__", None) != flask_wtf_csrf.__name__:
            continue
        offered = processor()  # Flask-WTF's: a dict of its two functions, nothing else
        if offered.get("csrf_token") is flask_wtf_csrf.generate_csrf:
            processors.remove(processor)
