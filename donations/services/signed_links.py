"""What the password-less links share: a timed serializer per purpose (its salt), reading
a token back as a list, and a row id from a token checked before it reaches a query.

Volunteers' and supporters' links sign ``[organization id, row id, ...]``, so a link
works only at its own organisation; receipts' and donors' links are in their modules."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from donations.models import MAX_ROW_ID


def serializer(salt: str) -> URLSafeTimedSerializer:
    """The signer of one kind of link, keyed on the app's secret."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def load_list(token: str, salt: str, max_age: int) -> list | None:
    """The list a token signed, or None: tampered with, expired or not a list."""
    try:
        data = serializer(salt).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one too
        return None
    return data if isinstance(data, list) else None


def row_id(value: object) -> int:
    """A row id read from a token, or 0 when it cannot be one."""
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID
    return value if ok else 0  # type: ignore[return-value]
