"""Secrets at rest: encrypted with the DATA_KEYS, rotated to the newest key, refused clearly."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from donations.config import parse_data_keys, settings_from_env
from donations.extensions import db
from donations.models import AuditEvent, OrganizationSecret
from donations.services import organization_secrets, secret_box
from donations.services.secret_box import SecretsUnavailable, SecretUnreadable

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def store(value: str = "sk_live_abcdef1234", name: str = "stripe_secret_key") -> None:
    organization_secrets.write_secrets(organization_id=1, values={name: value})
    db.session.commit()


def read(name: str = "stripe_secret_key") -> str:
    return organization_secrets.read_secrets(organization_id=1)[name]


def rotate(app) -> str:
    result = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    return result.output


# --- encrypting -------------------------------------------------------------------------


def test_a_secret_round_trips_and_is_never_stored_in_the_clear(app):
    app.config["DATA_KEYS"] = (NEW,)
    store("sk_live_round_trip_4242")
    row = db.session.scalar(select(OrganizationSecret))
    assert "round_trip" not in row.ciphertext and "4242" not in row.ciphertext
    assert read() == "sk_live_round_trip_4242"
    assert secret_box.decrypt_text(secret_box.encrypt_text("é ünïcode")) == "é ünïcode"


def test_rotating_with_two_keys_lets_the_new_key_alone_read_every_secret(app):
    app.config["DATA_KEYS"] = (OLD,)
    store("sk_live_first_1111")
    store("whsec_second_2222", name="stripe_webhook_secret")

    app.config["DATA_KEYS"] = (NEW, OLD)  # the new key in front, the old one still there
    assert read() == "sk_live_first_1111"  # both keys open
    assert "Re-encrypted 2 secrets with the newest key; 0 already used it." in rotate(app)
    assert "Re-encrypted 0 secrets with the newest key; 2 already used it." in rotate(app)

    app.config["DATA_KEYS"] = (NEW,)  # the old key dropped
    db.session.expire_all()
    assert read() == "sk_live_first_1111"
    assert read("stripe_webhook_secret") == "whsec_second_2222"
    app.config["DATA_KEYS"] = (OLD,)
    with pytest.raises(SecretUnreadable):
        read()
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "organization_secrets.rotate")
    )
    assert event.summary == "re-encrypted 2 stored secrets with the newest key"


def test_rotating_keeps_when_each_secret_was_saved(app):
    app.config["DATA_KEYS"] = (OLD,)
    store()
    saved = db.session.scalar(select(OrganizationSecret.updated_at))
    app.config["DATA_KEYS"] = (NEW, OLD)
    rotate(app)
    db.session.expire_all()
    assert db.session.scalar(select(OrganizationSecret.updated_at)) == saved


def test_a_secret_no_key_opens_is_a_clear_error_and_rotation_changes_nothing(app):
    app.config["DATA_KEYS"] = (OLD,)
    store()
    before = db.session.scalar(select(OrganizationSecret.ciphertext))
    app.config["DATA_KEYS"] = (NEW,)
    with pytest.raises(SecretUnreadable) as refused:
        read()
    assert "cannot be read with the keys in DATA_KEYS" in refused.value.message
    assert "Put that key back at the end of DATA_KEYS" in refused.value.message

    result = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code != 0
    assert "stripe_secret_key of organisation 1 opens with none of the keys" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(OrganizationSecret.ciphertext)) == before


def test_a_token_moved_to_another_row_does_not_open_there(app):
    app.config["DATA_KEYS"] = (NEW,)
    store("whsec_of_the_webhook", name="stripe_webhook_secret")
    row = db.session.scalar(select(OrganizationSecret))
    db.session.add(
        OrganizationSecret(
            organization_id=1,
            name="stripe_secret_key",
            ciphertext=row.ciphertext,
            updated_at=row.updated_at,
        )
    )
    db.session.commit()
    with pytest.raises(SecretUnreadable, match="encrypted for another organisation or name"):
        read()


def test_tampered_or_foreign_text_is_refused_like_a_wrong_key(app):
    app.config["DATA_KEYS"] = (NEW,)
    with pytest.raises(SecretUnreadable):
        secret_box.decrypt_text("not a token")
    token = secret_box.encrypt_text("x")
    with pytest.raises(SecretUnreadable):
        secret_box.decrypt_text(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))


# --- where the key comes from ------------------------------------------------------------


def test_tests_and_development_derive_a_key_from_the_secret_key(app, make_app):
    assert app.config["DATA_KEYS"] == ()
    assert secret_box.key_source() == "SECRET_KEY"
    token = secret_box.encrypt_text("sk_test_derived")
    assert secret_box.derive_key("test-secret-key") == secret_box.derive_key("test-secret-key")
    assert secret_box.derive_key("test-secret-key") != secret_box.derive_key("another key")
    # `make run`: not testing, not debug, but served on a loopback address it was given.
    local = make_app(TESTING=False, PUBLIC_BASE_URL="http://127.0.0.1:5000")
    with local.app_context():
        assert secret_box.key_source() == "SECRET_KEY"
        assert secret_box.decrypt_text(token) == "sk_test_derived"  # same SECRET_KEY, same key


def test_production_without_data_keys_refuses_to_store_secrets(make_app):
    production = make_app(TESTING=False, PUBLIC_BASE_URL="https://give.example.org")
    with production.app_context():
        assert secret_box.key_source() == ""
        with pytest.raises(SecretsUnavailable) as refused:
            secret_box.encrypt_text("sk_live_x")
    assert "DATA_KEYS is not set" in refused.value.message
    # A command with no PUBLIC_BASE_URL at all is not taken for a development copy either.
    command = make_app(TESTING=False, PUBLIC_BASE_URL=None)
    with command.app_context():
        assert secret_box.key_source() == ""


def test_a_development_copy_without_a_secret_key_refuses_too(make_app):
    local = make_app(TESTING=False, PUBLIC_BASE_URL="http://127.0.0.1:5000", SECRET_KEY=None)
    with (
        local.app_context(),
        pytest.raises(SecretsUnavailable, match="would be lost at the next start"),
    ):
        secret_box.encrypt_text("sk_live_x")


def test_production_with_data_keys_stores_with_the_first_key(make_app):
    production = make_app(
        TESTING=False, PUBLIC_BASE_URL="https://give.example.org", DATA_KEYS=f"{NEW}, {OLD}"
    )
    with production.app_context():
        assert production.config["DATA_KEYS"] == (NEW, OLD)
        token = secret_box.encrypt_text("sk_live_x")
    assert Fernet(NEW.encode()).decrypt(token.encode()) == b"sk_live_x"


def test_data_keys_come_from_the_environment_and_a_bad_one_is_named_by_position():
    assert settings_from_env({"DATA_KEYS": f"{NEW},{OLD}"})["DATA_KEYS"] == f"{NEW},{OLD}"
    assert parse_data_keys(f" {NEW} , {OLD} ,") == (NEW, OLD)
    assert parse_data_keys([NEW]) == (NEW,)
    assert parse_data_keys("") == () and parse_data_keys(None) == ()
    with pytest.raises(ValueError, match="key 2 of 2 is not a Fernet key") as refused:
        parse_data_keys(f"{NEW},not-a-key-at-all")
    assert "not-a-key-at-all" not in str(refused.value)
