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

import base64
import hashlib
import hmac
import json
import secrets
import time
import zlib
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, session
from flask.json.provider import DefaultJSONProvider
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_wtf import csrf as flask_wtf_csrf
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import int_to_bytes
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


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


class _DirectSerializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer; ``dumps`` of a simple value in one pass.

    itsdangerous signs through several layers (payload, signer made per call, want_bytes
    at every step). For a value ``plain_json`` can write (it returns None for any other,
    which goes the stock way), the same steps are done here directly: the JSON, zlib when
    it is shorter, URL-safe base64, the timestamp, the HMAC over both with the signer's
    derived key. The bytes are the stock ``dumps``'s (tests/test_cookie_session.py).
    """

    def __init__(self, *args: Any, plain_json: Callable[[Any], str | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_json = plain_json
        self._signer = self.make_signer()  # the current key's; derives it once (kept)

    def dumps(self, obj: Any, salt: str | bytes | None = None) -> str:
        text = None if salt is not None else self._plain_json(obj)
        if text is None:
            return super().dumps(obj, salt)
        data = text.encode()
        compressed = zlib.compress(data)
        shorter = len(compressed) < len(data) - 1
        payload = b"." + _b64(compressed) if shorter else _b64(data)
        value = payload + b"." + _b64(int_to_bytes(int(time.time())))
        signature = hmac.digest(self._signer.derive_key(), value, "sha1")
        return (value + b"." + _b64(signature)).decode()


def _token_json(obj: Any) -> str | None:
    """A CSRF token's raw value as itsdangerous' compact JSON writes it (hex: as is)."""
    if type(obj) is str and obj.isascii() and obj.isalnum():
        return f'"{obj}"'
    return None


_PLAIN_TYPES = (str, int, bool, type(None))


def _session_json(provider: Any, tags: Any) -> Callable[[Any], str | None]:
    """How Flask's tagged JSON writes a session of plain values (str keys; str, int,
    bool or None values: nothing Flask tags), or None for any other session. Only for
    Flask's default JSON provider, whose settings (sorted keys, ASCII) are read here."""
    if type(provider) is not DefaultJSONProvider:
        return lambda obj: None
    sort_keys, ensure_ascii = provider.sort_keys, provider.ensure_ascii

    def write(obj: Any) -> str | None:
        if type(obj) is not dict or (len(obj) == 1 and next(iter(obj)) in tags):
            return None
        for key, value in obj.items():
            if type(key) is not str or type(value) not in _PLAIN_TYPES:
                return None
        return json.dumps(
            obj, sort_keys=sort_keys, ensure_ascii=ensure_ascii, separators=(",", ":")
        )

    return write


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
            plain = (
                _session_json(app.json, self.serializer.tags)
                if type(self.serializer) is TaggedJSONSerializer
                else lambda obj: None
            )
            serializer = _DirectSerializer(
                [*key[1], key[0]],  # itsdangerous expects the current key last
                salt=self.salt,
                serializer=self.serializer,
                signer=_KeptKeySigner,
                signer_kwargs={**_SIGNER_KWARGS, "key_derivation": self.key_derivation},
                plain_json=plain,
            )
            if len(self._serializers) >= 8:  # a rotated key: forget the old ones
                self._serializers.clear()
            self._serializers[key] = serializer
        return serializer

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's ``save_session`` (Flask 3.1), with "Vary: Cookie" added without
        parsing the header into a set when the response has no Vary header yet."""
        if session.accessed:
            _vary_on_cookie(response)
        if not session:
            if session.modified:
                response.delete_cookie(
                    self.get_cookie_name(app),
                    domain=self.get_cookie_domain(app),
                    path=self.get_cookie_path(app),
                    secure=self.get_cookie_secure(app),
                    partitioned=self.get_cookie_partitioned(app),
                    samesite=self.get_cookie_samesite(app),
                    httponly=self.get_cookie_httponly(app),
                )
                _vary_on_cookie(response)
            return
        if not self.should_set_cookie(app, session):
            return
        serializer = self.get_signing_serializer(app)
        assert serializer is not None  # is_null_session skipped this request otherwise
        response.set_cookie(
            self.get_cookie_name(app),
            serializer.dumps(dict(session)),
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            partitioned=self.get_cookie_partitioned(app),
            samesite=self.get_cookie_samesite(app),
        )
        _vary_on_cookie(response)


def _vary_on_cookie(response: Response) -> None:
    if "Vary" not in response.headers:
        response.headers["Vary"] = "Cookie"
    else:
        response.vary.add("Cookie")  # merged into what the view said, once


_csrf_serializers: dict[str | bytes, URLSafeTimedSerializer] = {}


def _csrf_serializer(secret_key: str | bytes) -> URLSafeTimedSerializer:
    serializer = _csrf_serializers.get(secret_key)
    if serializer is None:
        if len(_csrf_serializers) >= 8:
            _csrf_serializers.clear()
        serializer = _csrf_serializers[secret_key] = _DirectSerializer(
            secret_key,
            salt=CSRF_SALT,
            signer=_KeptKeySigner,
            signer_kwargs=_SIGNER_KWARGS,
            plain_json=_token_json,
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
