"""The current organisation's Stripe keys and test mode: its own, stored encrypted, or the
environment's.

An organisation that saved its settings (Admin → Payments) uses what it saved, all of it:
the environment's STRIPE_* values are then ignored for it, so an organisation never runs on
another's webhook secret. One that saved nothing uses ``STRIPE_SECRET_KEY``,
``STRIPE_PUBLISHABLE_KEY``, ``STRIPE_WEBHOOK_SECRET`` and ``RECEIPTS_TEST_MODE`` as before,
so a single-shelter install configured by its environment keeps working unchanged.

*Test mode* is per organisation: its receipts are test receipts ("TEST-" series) while it
is on. With a live key it must be off and with a test key on (saving refuses a mismatch);
without a secret key checkout goes to the local test payment page, and test mode off then
means gifts are recorded by hand only and get real receipts.

No page ever gets a secret from here: ``payment_settings_page`` gives the last four
characters of each.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, g
from sqlalchemy import ColumnElement, exists, literal, select

from donations.extensions import db, hold
from donations.models import Organization, OrganizationSecret, User
from donations.services import organization_secrets
from donations.services.audit import describe_changes, record_audit
from donations.services.errors import InvalidInput
from donations.services.organization import remember_organization_name
from donations.services.secret_box import key_source
from donations.tenancy import current_organization_id

# The names the values are stored under (row names, not secrets).
SECRET_KEY = "stripe_secret_key"  # noqa: S105
PUBLISHABLE_KEY = "stripe_publishable_key"
WEBHOOK_SECRET = "stripe_webhook_secret"  # noqa: S105
TEST_MODE = "stripe_test_mode"
NAMES = (SECRET_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET, TEST_MODE)
KEY_NAMES = (SECRET_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET)

MAX_KEY_LENGTH = 255
SECRET_KEY_RE = re.compile(r"(?:sk|rk)_(test|live)_[A-Za-z0-9_]+")
PUBLISHABLE_KEY_RE = re.compile(r"pk_(test|live)_[A-Za-z0-9_]+")
WEBHOOK_SECRET_RE = re.compile(r"whsec_[A-Za-z0-9_]+")

# Kept on g for the request (or job, or command): (organisation id, what was read).
_STORED = "donations_stored_stripe_settings"  # the stored values, opened
_PRESENT = "donations_stored_stripe_names"  # only whether anything and a secret key is stored
# Kept by the app a while, to verify webhook deliveries: {organisation id: (until, settings)}.
_KEPT = "donations.kept_stripe_settings"


def _organization_id() -> int:
    return current_organization_id()


def key_mode(key: str) -> str:
    """Return "live" or "test" from a Stripe key's prefix (sk_, rk_, pk_); else ""."""
    for mode in ("live", "test"):
        if key.startswith((f"sk_{mode}_", f"rk_{mode}_", f"pk_{mode}_")):
            return mode
    return ""


@dataclass(frozen=True)
class StripeSettings:
    """What the payment code needs. Never handed to a template (see payment_settings_page)."""

    secret_key: str = field(repr=False)
    publishable_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    test_mode: bool  # receipts made now are test receipts
    stored: bool  # the organisation's own settings (False: the environment's)

    @property
    def local_payments(self) -> bool:
        """No secret key: checkout goes to the local test payment page, no money moves."""
        return not self.secret_key


def _stored_values() -> dict[str, str]:
    """The organisation's stored settings, read once per request (or job, or command)."""
    organization_id = _organization_id()
    cached = g.get(_STORED)
    if cached is None or cached[0] != organization_id:
        values = organization_secrets.read_secrets(organization_id=organization_id)
        cached = (organization_id, values)
        setattr(g, _STORED, cached)
    return cached[1]


def _forget_cached() -> None:
    g.pop(_STORED, None)
    g.pop(_PRESENT, None)
    current_app.extensions.get(_KEPT, {}).pop(_organization_id(), None)


@dataclass(frozen=True)
class StoredPresence:
    """Whether the organisation stored settings, and a secret key among them."""

    settings: bool
    secret_key: bool


def remember_stored_presence(presence: StoredPresence) -> None:
    """Keep what a page's own query found, so ``payments_are_local`` needs no query."""
    setattr(g, _PRESENT, (_organization_id(), presence))


def presence_columns(organization_id: ColumnElement[int]) -> tuple[ColumnElement[bool], ...]:
    """Two columns for a page's own query: ``stored_settings`` and ``stored_secret_key``."""
    secrets = OrganizationSecret.__table__
    of_org = secrets.c.organization_id == organization_id
    return (
        exists().where(of_org).label("stored_settings"),
        exists().where(of_org, secrets.c.name == SECRET_KEY).label("stored_secret_key"),
    )


def _presence() -> StoredPresence:
    organization_id = _organization_id()
    cached = g.get(_STORED)
    if cached is not None and cached[0] == organization_id:
        values = cached[1]
        return StoredPresence(settings=bool(values), secret_key=SECRET_KEY in values)
    cached = g.get(_PRESENT)
    if cached is None or cached[0] != organization_id:
        cached = (organization_id, _read_presence(organization_id))
        setattr(g, _PRESENT, cached)
    return cached[1]


def _read_presence(organization_id: int) -> StoredPresence:
    """Read the presence, and the organisation profile beside it in the same statement.

    Every page's layout asks (the test-mode banner) and shows the organisation's name: the
    profile is held for ``get_organization`` to find in memory and its name kept for the
    page header, so the page reads neither again (none saved yet: the default name).
    """
    one = select(literal(1).label("one")).subquery()
    row = db.session.execute(
        select(Organization, *presence_columns(literal(organization_id)))
        .select_from(one)
        .outerjoin(Organization, Organization.id == organization_id)
    ).one()
    organization = hold(row[0])
    remember_organization_name(organization.legal_name if organization is not None else "")
    return StoredPresence(
        settings=bool(row.stored_settings), secret_key=bool(row.stored_secret_key)
    )


def _local(presence: StoredPresence) -> bool:
    if presence.settings:
        return not presence.secret_key
    return not current_app.config.get("STRIPE_SECRET_KEY")


def payments_are_local() -> bool:
    """True when the organisation has no Stripe secret key: checkout goes to the local test
    page. Opens no secret."""
    return _local(_presence())


def stripe_settings() -> StripeSettings:
    """Return the current organisation's Stripe keys and test mode.

    Raises SecretUnreadable when its stored keys open with none of the DATA_KEYS.
    """
    stored = _stored_values()
    if stored:
        secret = stored.get(SECRET_KEY, "")
        mode = stored.get(TEST_MODE)
        return StripeSettings(
            secret_key=secret,
            publishable_key=stored.get(PUBLISHABLE_KEY, ""),
            webhook_secret=stored.get(WEBHOOK_SECRET, ""),
            test_mode=(mode == "on") if mode is not None else key_mode(secret) != "live",
            stored=True,
        )
    config = current_app.config
    secret = str(config.get("STRIPE_SECRET_KEY") or "")
    receipts = config.get("RECEIPTS_TEST_MODE")
    return StripeSettings(
        secret_key=secret,
        publishable_key=str(config.get("STRIPE_PUBLISHABLE_KEY") or ""),
        webhook_secret=str(config.get("STRIPE_WEBHOOK_SECRET") or ""),
        test_mode=bool(receipts) if receipts is not None else key_mode(secret) != "live",
        stored=False,
    )


def kept_stripe_settings(max_age: float) -> StripeSettings:
    """``stripe_settings()`` as this process read them at most ``max_age`` seconds ago, read
    now when it has not: what verifies a webhook delivery, so an acknowledgement need not
    read the database. A change saved in this process is seen at once; other processes
    see it within ``max_age`` seconds."""
    kept: dict[int, tuple[float, StripeSettings]] = current_app.extensions.setdefault(_KEPT, {})
    organization_id = _organization_id()
    now = time.monotonic()
    found = kept.get(organization_id)
    if found is not None and found[0] > now:
        return found[1]
    settings = stripe_settings()
    kept[organization_id] = (now + max_age, settings)
    return settings


# --- the settings page ------------------------------------------------------------


def last_four(value: str | None) -> str:
    """What a page may show of a secret: its last four characters."""
    return f"…{value[-4:]}" if value else ""


@dataclass(frozen=True)
class PaymentSettingsPage:
    """What the payments page shows: where the settings come from, and hints only."""

    source: str  # "organisation", "environment" or "" (neither: test mode)
    secret_key: str  # "…4242", "" when not set
    publishable_key: str
    webhook_secret: str
    mode: str  # the secret key's "live" or "test", "" without one
    test_mode: bool
    local_payments: bool
    updated_at: datetime | None
    unreadable: tuple[str, ...]  # stored names no key in DATA_KEYS opens
    key_source: str  # "DATA_KEYS", "SECRET_KEY" (derived) or "" (cannot store)


def payment_settings_page() -> PaymentSettingsPage:
    """Describe the organisation's payment settings for its admin, without any secret."""
    stored = organization_secrets.inspect_secrets(organization_id=_organization_id())
    if stored:
        values = {name: found.value for name, found in stored.items()}
        unreadable = tuple(name for name in NAMES if name in values and values[name] is None)
        secret = values.get(SECRET_KEY) or ""
        mode = values.get(TEST_MODE)
        test_mode = (mode == "on") if mode is not None else key_mode(secret) != "live"
        source = "organisation"
        updated_at: datetime | None = max(found.updated_at for found in stored.values())
    else:
        settings = stripe_settings()
        values = {
            SECRET_KEY: settings.secret_key,
            PUBLISHABLE_KEY: settings.publishable_key,
            WEBHOOK_SECRET: settings.webhook_secret,
        }
        unreadable = ()
        secret, test_mode = settings.secret_key, settings.test_mode
        source = "environment" if any(values.values()) else ""
        updated_at = None
    return PaymentSettingsPage(
        source=source,
        secret_key=last_four(values.get(SECRET_KEY)),
        publishable_key=last_four(values.get(PUBLISHABLE_KEY)),
        webhook_secret=last_four(values.get(WEBHOOK_SECRET)),
        mode=key_mode(secret),
        test_mode=test_mode,
        local_payments=not secret and SECRET_KEY not in unreadable,
        updated_at=updated_at,
        unreadable=unreadable,
        key_source=key_source(),
    )


def _checked(value: str, pattern: re.Pattern[str], field_name: str, example: str) -> str:
    value = value.strip()
    if value and (len(value) > MAX_KEY_LENGTH or not pattern.fullmatch(value)):
        raise InvalidInput(f"This does not look like {example}.", field=field_name)
    return value


def _check_consistent(values: dict[str, str], test_mode: bool) -> None:
    secret, publishable = values[SECRET_KEY], values[PUBLISHABLE_KEY]
    mode = key_mode(secret)
    if not secret and (publishable or values[WEBHOOK_SECRET]):
        raise InvalidInput(
            "Enter the secret key too: the other keys are of no use without it.",
            field="secret_key",
        )
    if secret and not values[WEBHOOK_SECRET]:
        raise InvalidInput(
            "Enter the webhook signing secret (whsec_…) of this site's endpoint in Stripe's "
            "dashboard: without it no payment made on Stripe is recorded here.",
            field="webhook_secret",
        )
    if publishable and key_mode(publishable) != mode:
        raise InvalidInput(
            f"The secret key is a {mode} key but the publishable key is a "
            f"{key_mode(publishable)} key. Copy both from the same mode (Test or Live) of "
            "Stripe's dashboard.",
            field="publishable_key",
        )
    if mode == "live" and test_mode:
        raise InvalidInput(
            "A live key takes real payments: untick test mode to go live, or enter test keys.",
            field="test_mode",
        )
    if mode == "test" and not test_mode:
        raise InvalidInput(
            "Test keys take no real money: keep test mode on, or enter live keys.",
            field="test_mode",
        )


_FIELDS = {
    SECRET_KEY: "secret_key",
    PUBLISHABLE_KEY: "publishable_key",
    WEBHOOK_SECRET: "webhook_secret",
}
_UNREADABLE = object()  # a stored value no key opened: whatever replaces it is a change


def save_stripe_settings(
    *,
    actor: User | None,
    secret_key: str = "",
    publishable_key: str = "",
    webhook_secret: str = "",
    test_mode: bool,
) -> PaymentSettingsPage:
    """Store the organisation's Stripe keys and test mode, encrypted; a blank key keeps the
    stored one. Raises InvalidInput for a malformed key, a test key beside a live one, or a
    test mode that disagrees with the keys; SecretsUnavailable without DATA_KEYS in
    production. The audit event says what changed, never a value.
    """
    entered = {
        SECRET_KEY: _checked(secret_key, SECRET_KEY_RE, "secret_key", "a secret key (sk_…)"),
        PUBLISHABLE_KEY: _checked(
            publishable_key, PUBLISHABLE_KEY_RE, "publishable_key", "a publishable key (pk_…)"
        ),
        WEBHOOK_SECRET: _checked(
            webhook_secret, WEBHOOK_SECRET_RE, "webhook_secret", "a webhook secret (whsec_…)"
        ),
    }
    organization_id = _organization_id()
    stored = organization_secrets.inspect_secrets(organization_id=organization_id)
    values: dict[str, str] = {}
    for name, value in entered.items():
        if value or name not in stored:
            values[name] = value
        elif stored[name].value is None:
            raise InvalidInput(
                "The stored value cannot be read with the keys in DATA_KEYS: enter it again.",
                field=_FIELDS[name],
            )
        else:
            values[name] = stored[name].value or ""
    if not values[SECRET_KEY] and current_app.config.get("STRIPE_SECRET_KEY"):
        raise InvalidInput(
            "The server's configuration has a Stripe secret key, which this organisation "
            "uses until it saves its own: enter its own keys to replace it.",
            field="secret_key",
        )
    _check_consistent(values, test_mode)

    values[TEST_MODE] = "on" if test_mode else "off"
    organization_secrets.write_secrets(organization_id=organization_id, values=values)
    _forget_cached()

    before: dict[str, object] = {name: "" for name in KEY_NAMES}
    before.update(
        {
            name: _UNREADABLE if found.value is None else found.value
            for name, found in stored.items()
        }
    )
    if TEST_MODE in before:
        before[TEST_MODE] = before[TEST_MODE] == "on"
    after: dict[str, object] = {**values, TEST_MODE: test_mode}
    changes = describe_changes(before, after, redacted=KEY_NAMES)
    if not stored or changes:
        record_audit(
            actor=actor,
            action="payment_settings.create" if not stored else "payment_settings.update",
            object_type="payment_settings",
            object_id=organization_id,
            summary=changes,
        )
    return payment_settings_page()


def forget_stripe_settings(*, actor: User | None) -> int:
    """Remove the organisation's stored settings, so the environment's apply again.

    Returns how many values were removed.
    """
    organization_id = _organization_id()
    removed = organization_secrets.delete_secrets(organization_id=organization_id, names=NAMES)
    _forget_cached()
    if removed:
        record_audit(
            actor=actor,
            action="payment_settings.forget",
            object_type="payment_settings",
            object_id=organization_id,
            summary=f"removed the {removed} stored payment settings",
        )
    return removed
