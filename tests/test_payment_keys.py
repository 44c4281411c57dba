"""Each organisation's Stripe keys: stored encrypted, else the environment's; the payments
page never shows one; the webhook checks the stored webhook secret."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import event as sqla_event
from sqlalchemy import select
from stripe_fixtures import deliver

from donations.extensions import db
from donations.models import AuditEvent, OrganizationSecret, StripeEvent
from donations.queue import queue_of
from donations.services import organization_secrets, payment_keys, payments, receipts
from donations.services.errors import InvalidInput
from donations.tenancy import current_organization_id

LIVE_SECRET = "sk_live_51AbCdEfGhIjKlMnOpQrStUvWx9K3q"
LIVE_PUBLISHABLE = "pk_live_51AbCdEfGhIjKlMnOpQrStUvWxP7z2"
TEST_SECRET = "sk_test_51AbCdEfGhIjKlMnOpQrStUvWxT8m4"
TEST_PUBLISHABLE = "pk_test_51AbCdEfGhIjKlMnOpQrStUvWxQ5n6"
WEBHOOK = "whsec_4fJ2kL9mN3pQ7rS1tV5wX8yZ0aB6"
SECRETS = (LIVE_SECRET, LIVE_PUBLISHABLE, TEST_SECRET, TEST_PUBLISHABLE, WEBHOOK)


def save(**fields):
    fields.setdefault("test_mode", payment_keys.key_mode(fields.get("secret_key", "")) != "live")
    page = payment_keys.save_stripe_settings(actor=None, **fields)
    db.session.commit()
    return page


def audit(action_prefix: str = "payment_settings") -> list[AuditEvent]:
    return [
        event
        for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        if event.action.startswith(action_prefix)
    ]


# --- where the keys come from ---------------------------------------------------------


def test_without_stored_keys_the_environment_applies_as_before(app):
    settings = payment_keys.stripe_settings()
    assert (settings.secret_key, settings.stored, settings.local_payments) == ("", False, True)
    assert payments.is_test_mode()
    assert receipts.making_test_receipts() is False  # the suite's RECEIPTS_TEST_MODE=False
    app.config.update(
        STRIPE_SECRET_KEY=LIVE_SECRET,
        STRIPE_PUBLISHABLE_KEY=LIVE_PUBLISHABLE,
        STRIPE_WEBHOOK_SECRET=WEBHOOK,
        RECEIPTS_TEST_MODE=None,
    )
    settings = payment_keys.stripe_settings()
    assert (settings.secret_key, settings.publishable_key, settings.webhook_secret) == (
        LIVE_SECRET,
        LIVE_PUBLISHABLE,
        WEBHOOK,
    )
    assert not settings.test_mode and not payments.is_test_mode()
    assert payments.webhook_secret() == WEBHOOK
    assert receipts.making_test_receipts() is False
    app.config["STRIPE_SECRET_KEY"] = TEST_SECRET
    assert receipts.making_test_receipts() is True


def test_stored_keys_win_over_the_environment_all_of_them(app):
    app.config.update(
        STRIPE_SECRET_KEY=TEST_SECRET,
        STRIPE_PUBLISHABLE_KEY=TEST_PUBLISHABLE,
        STRIPE_WEBHOOK_SECRET="whsec_of_the_environment",
    )
    save(secret_key=LIVE_SECRET, webhook_secret=WEBHOOK)
    settings = payment_keys.stripe_settings()
    assert settings.stored
    assert settings.secret_key == LIVE_SECRET and settings.webhook_secret == WEBHOOK
    assert settings.publishable_key == ""  # not the environment's: never a mix of two accounts
    assert payments.webhook_secret() == WEBHOOK
    assert not payments.is_test_mode() and receipts.making_test_receipts() is False
    gateway = payments.get_gateway()
    assert gateway.webhook_secret == WEBHOOK and not gateway.test_mode


def test_forgetting_the_stored_keys_brings_the_environment_back(app):
    app.config["STRIPE_SECRET_KEY"] = TEST_SECRET
    app.config["STRIPE_WEBHOOK_SECRET"] = "whsec_env"
    save(secret_key=LIVE_SECRET, webhook_secret=WEBHOOK)
    assert payment_keys.forget_stripe_settings(actor=None) == 3  # two keys and test mode
    db.session.commit()
    assert payment_keys.stripe_settings().secret_key == TEST_SECRET
    assert db.session.scalar(select(OrganizationSecret)) is None
    assert [e.action for e in audit()] == ["payment_settings.create", "payment_settings.forget"]


def test_a_blank_key_keeps_the_stored_one(app):
    save(secret_key=TEST_SECRET, publishable_key=TEST_PUBLISHABLE, webhook_secret=WEBHOOK)
    save(webhook_secret="whsec_new_one", test_mode=True)
    settings = payment_keys.stripe_settings()
    assert settings.secret_key == TEST_SECRET and settings.publishable_key == TEST_PUBLISHABLE
    assert settings.webhook_secret == "whsec_new_one"
    assert [e.summary for e in audit()][-1] == "stripe_webhook_secret changed"


# --- test mode per organisation -------------------------------------------------------


def test_test_mode_follows_the_organisations_own_keys(app):
    app.config["RECEIPTS_TEST_MODE"] = False  # the environment's choice: not used once saved
    save(secret_key=TEST_SECRET, publishable_key=TEST_PUBLISHABLE, webhook_secret=WEBHOOK)
    assert payment_keys.stripe_settings().test_mode and receipts.making_test_receipts()
    assert not payments.is_test_mode()  # Stripe's own test mode, not the local test page
    save(secret_key=LIVE_SECRET, publishable_key=LIVE_PUBLISHABLE, test_mode=False)
    assert not receipts.making_test_receipts()


def test_without_a_key_test_mode_off_means_real_receipts_for_gifts_by_hand(app):
    app.config["RECEIPTS_TEST_MODE"] = None
    save(test_mode=True)
    assert payments.is_test_mode() and receipts.making_test_receipts()
    save(test_mode=False)
    assert payments.is_test_mode() and not receipts.making_test_receipts()


# --- what saving refuses --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"secret_key": "pk_live_wrong_place"}, "secret_key", "a secret key (sk_"),
        ({"secret_key": "sk_live_has space"}, "secret_key", "a secret key"),
        ({"secret_key": LIVE_SECRET, "webhook_secret": "wh_x"}, "webhook_secret", "whsec_"),
        (
            {"secret_key": LIVE_SECRET, "publishable_key": "sk_live_x", "webhook_secret": WEBHOOK},
            "publishable_key",
            "a publishable key",
        ),
        (
            {
                "secret_key": LIVE_SECRET,
                "publishable_key": TEST_PUBLISHABLE,
                "webhook_secret": WEBHOOK,
                "test_mode": False,
            },
            "publishable_key",
            "The secret key is a live key but the publishable key is a test key",
        ),
        (
            {"secret_key": LIVE_SECRET, "webhook_secret": WEBHOOK, "test_mode": True},
            "test_mode",
            "A live key takes real payments",
        ),
        (
            {"secret_key": TEST_SECRET, "webhook_secret": WEBHOOK, "test_mode": False},
            "test_mode",
            "Test keys take no real money",
        ),
        ({"secret_key": LIVE_SECRET, "test_mode": False}, "webhook_secret", "signing secret"),
        ({"webhook_secret": WEBHOOK}, "secret_key", "Enter the secret key too"),
    ],
)
def test_saving_refuses_malformed_and_mismatched_keys(app, fields, field, message):
    fields.setdefault("test_mode", True)
    with pytest.raises(InvalidInput) as refused:
        payment_keys.save_stripe_settings(actor=None, **fields)
    assert refused.value.field == field
    assert message in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(OrganizationSecret)) is None


def test_a_pasted_key_with_spaces_around_it_is_kept_trimmed(app):
    save(secret_key=f"  {TEST_SECRET}\n", webhook_secret=f" {WEBHOOK} ")
    assert payment_keys.stripe_settings().secret_key == TEST_SECRET


def test_saving_no_key_cannot_hide_the_environments_key(app):
    app.config["STRIPE_SECRET_KEY"] = LIVE_SECRET
    with pytest.raises(InvalidInput, match="server's configuration has a Stripe secret key"):
        payment_keys.save_stripe_settings(actor=None, test_mode=True)


# --- the payments page ----------------------------------------------------------------


def test_the_payments_page_saves_keys_and_shows_only_their_last_four(app, admin_client):
    page = admin_client.get("/admin/payments").get_data(as_text=True)
    assert "Payment settings" in page and "nowhere yet" in page
    assert "http://donations.test/stripe/webhook" in page
    response = admin_client.post(
        "/admin/payments",
        data={
            "secret_key": LIVE_SECRET,
            "publishable_key": LIVE_PUBLISHABLE,
            "webhook_secret": WEBHOOK,
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Payment settings saved." in html
    assert "…9K3q" in html and "…P7z2" in html and "…0aB6" in html
    assert "(live key)" in html and "off: receipts are real" in html
    for secret in SECRETS:
        assert secret not in html
        assert secret[:-4] not in html
    (event,) = audit()
    assert event.action == "payment_settings.create"
    assert event.summary == (
        "stripe_secret_key changed; stripe_publishable_key changed; "
        "stripe_webhook_secret changed; stripe_test_mode: (blank) -> no"
    )
    for secret in SECRETS:
        assert secret[-4:] not in event.summary
    for row in db.session.scalars(select(OrganizationSecret)):
        assert not any(secret in row.ciphertext for secret in SECRETS)


def test_a_refused_form_does_not_send_the_secret_back(app, admin_client):
    response = admin_client.post(
        "/admin/payments",
        data={"secret_key": LIVE_SECRET, "webhook_secret": WEBHOOK, "test_mode": "y"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "A live key takes real payments" in html
    assert LIVE_SECRET not in html and WEBHOOK not in html
    assert db.session.scalar(select(OrganizationSecret)) is None


def test_the_page_says_when_a_stored_key_cannot_be_read(app, admin_client):
    save(secret_key=TEST_SECRET, webhook_secret=WEBHOOK)
    app.config["DATA_KEYS"] = ("u0hhVBMtJjxmO7ORPb6nh8z3fO0EGpnNsYUYlIVqp9o=",)  # another key
    html = admin_client.get("/admin/payments").get_data(as_text=True)
    assert "3 stored values cannot be read" in html and "cannot be read" in html
    # Entering the keys again replaces them, encrypted with the key now in use.
    response = admin_client.post(
        "/admin/payments",
        data={"secret_key": TEST_SECRET, "webhook_secret": WEBHOOK, "test_mode": "y"},
        follow_redirects=True,
    )
    assert "Payment settings saved." in response.get_data(as_text=True)
    assert payment_keys.stripe_settings().secret_key == TEST_SECRET


def test_removing_the_stored_keys_from_the_page(app, admin_client):
    save(secret_key=TEST_SECRET, webhook_secret=WEBHOOK)
    html = admin_client.get("/admin/payments").get_data(as_text=True)
    assert "Remove the stored keys" in html
    response = admin_client.post("/admin/payments/forget", follow_redirects=True)
    assert "Removed the stored payment settings." in response.get_data(as_text=True)
    assert db.session.scalar(select(OrganizationSecret)) is None


def test_the_test_mode_banner_follows_the_stored_keys(app, admin_client, client):
    banner = "payments go to a local test page"
    assert banner in admin_client.get("/admin/payments").get_data(as_text=True)
    assert banner in client.get("/").get_data(as_text=True)
    save(secret_key=TEST_SECRET, webhook_secret=WEBHOOK)
    assert banner not in admin_client.get("/admin/payments").get_data(as_text=True)
    assert banner not in client.get("/").get_data(as_text=True)


# --- the webhook ----------------------------------------------------------------------


@pytest.fixture
def stripe_app(make_app, stripe_api):
    app = make_app(
        STRIPE_SECRET_KEY="sk_test_of_the_environment",
        STRIPE_WEBHOOK_SECRET="whsec_of_the_environment",
        STRIPE_API_BASE=stripe_api.url,
        STRIPE_MAX_NETWORK_RETRIES=0,
        STRIPE_TIMEOUT=5,
    )
    from conftest import clean_database

    with app.app_context():
        clean_database()
        yield app


def test_the_webhook_checks_the_stored_webhook_secret(stripe_app, stripe_api):
    client = stripe_app.test_client()
    first = stripe_api.local.event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})
    assert deliver(client, first, "whsec_of_the_environment").status_code == 200

    save(secret_key=TEST_SECRET, webhook_secret=WEBHOOK)
    second = stripe_api.local.event("customer.tax_id.created", {"id": "txi_2", "object": "tax_id"})
    assert deliver(client, second, "whsec_of_the_environment").status_code == 400
    assert deliver(client, second, WEBHOOK).status_code == 200
    stored = [json.loads(row.payload)["id"] for row in db.session.scalars(select(StripeEvent))]
    assert sorted(stored) == sorted([first["id"], second["id"]])


def test_a_webhook_secret_saved_by_another_process_is_used_within_seconds(
    stripe_app, stripe_api, monkeypatch
):
    queue = queue_of(stripe_app)
    queue.register_all()
    monkeypatch.setattr(queue.huey, "immediate", False)  # acknowledgements only: no run inline
    client = stripe_app.test_client()
    tax_id = 0

    def delivery() -> dict:
        nonlocal tax_id
        tax_id += 1
        return stripe_api.local.event(
            "customer.tax_id.created", {"id": f"txi_{tax_id}", "object": "tax_id"}
        )

    assert deliver(client, delivery(), "whsec_of_the_environment").status_code == 200
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sqla_event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert deliver(client, delivery(), "whsec_of_the_environment").status_code == 200
    finally:
        sqla_event.remove(db.engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "organization_secrets" in s]  # verified from memory

    # Another process saves the organisation's own keys: this one is not told.
    organization_secrets.write_secrets(
        organization_id=current_organization_id(),
        values={
            payment_keys.SECRET_KEY: TEST_SECRET,
            payment_keys.WEBHOOK_SECRET: WEBHOOK,
            payment_keys.TEST_MODE: "on",
        },
    )
    db.session.commit()
    assert deliver(client, delivery(), "whsec_of_the_environment").status_code == 200
    later = time.monotonic() + payments.WEBHOOK_SETTINGS_KEPT + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    refused = delivery()
    assert deliver(client, refused, "whsec_of_the_environment").status_code == 400
    assert deliver(client, refused, WEBHOOK).status_code == 200
