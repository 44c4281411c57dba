"""Which payment gateway the app talks to: Stripe, or the local test mode.

The gateway's errors are re-exported here (``payments.GatewayError`` when Stripe
cannot be reached or refuses a call, ``payments.SignatureError`` for a webhook
whose signature does not check out), so views catch them without importing
``donations.integrations``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from donations.extensions import db
from donations.integrations.local_gateway import LocalGateway, OfflineStripe, sign_payload
from donations.integrations.stripe_gateway import GatewayError as GatewayError
from donations.integrations.stripe_gateway import PaymentGateway, StripeGateway
from donations.integrations.stripe_gateway import SignatureError as SignatureError
from donations.models import Gift, PlanStatus, RecurringPlan, StripeTestObject
from donations.services import stripe_events
from donations.services.errors import InvalidInput, NotFound
from donations.services.giving import get_giving_settings
from donations.services.links import absolute_url
from donations.services.payment_keys import (
    StripeSettings,
    kept_stripe_settings,
    payments_are_local,
    stripe_settings,
)

log = logging.getLogger(__name__)

_CACHE_KEY = "donations.stripe_gateways"
# Gateways kept per set of keys; past this many (keys changed again and again) start afresh.
_MAX_GATEWAYS = 32
# How long a process verifies webhook deliveries with the Stripe settings it read: an
# acknowledgement then reads nothing from the main database. A new webhook secret reaches
# the other processes within this time; Stripe retries a delivery they refused meanwhile.
WEBHOOK_SETTINGS_KEPT = 10.0  # seconds


def is_test_mode() -> bool:
    """True when the organisation has no Stripe secret key: the local test payment page."""
    return payments_are_local()


def test_mode_banner() -> bool:
    """Whether the page layout shows the test-mode banner (no Stripe secret key).

    Every page renders it, an error page too: a database that cannot be read is logged
    and shows no banner."""
    try:
        return payments_are_local()
    except SQLAlchemyError:
        log.exception("could not read the payment settings")
        db.session.rollback()
        return False


def webhook_secret() -> str | None:
    """The secret the organisation's webhook events are signed with (None: not set)."""
    return _webhook_secret(stripe_settings())


def _webhook_secret(settings: StripeSettings) -> str | None:
    if settings.local_payments:
        key = str(current_app.config["SECRET_KEY"]).encode()
        return "whsec_local_" + hmac.new(key, b"stripe-test-mode", hashlib.sha256).hexdigest()[:32]
    return settings.webhook_secret or None


def get_gateway() -> PaymentGateway:
    """Return the organisation's gateway: real Stripe with its keys, test mode without."""
    return _gateway(stripe_settings())


def webhook_gateway() -> PaymentGateway | None:
    """The gateway that verifies webhook deliveries to the organisation, from the settings
    this process read within WEBHOOK_SETTINGS_KEPT seconds; None when it has no webhook
    secret."""
    settings = kept_stripe_settings(WEBHOOK_SETTINGS_KEPT)
    return _gateway(settings) if _webhook_secret(settings) else None


def _gateway(settings: StripeSettings) -> PaymentGateway:
    if not settings.local_payments:
        return _stripe_gateway(settings)
    return LocalGateway(
        _local_stripe, webhook_secret=_webhook_secret(settings) or "", tolerance=300
    )


def _stripe_gateway(settings: StripeSettings) -> StripeGateway:
    """The Stripe client for these keys, built once (it holds a connection pool)."""
    app = current_app
    gateways: dict[tuple[str, str], StripeGateway] = app.extensions.setdefault(_CACHE_KEY, {})
    keys = (settings.secret_key, settings.webhook_secret)
    gateway = gateways.get(keys)
    if gateway is None:
        if len(gateways) >= _MAX_GATEWAYS:
            gateways.clear()
        gateway = StripeGateway(
            secret_key=settings.secret_key,
            webhook_secret=settings.webhook_secret,
            api_base=app.config["STRIPE_API_BASE"],
            api_version=app.config["STRIPE_API_VERSION"],
            timeout=float(app.config["STRIPE_TIMEOUT"]),
            max_network_retries=int(app.config["STRIPE_MAX_NETWORK_RETRIES"]),
            webhook_tolerance=int(app.config["STRIPE_WEBHOOK_TOLERANCE"]),
        )
        gateways[keys] = gateway
    return gateway


# --- test mode --------------------------------------------------------------------


class DatabaseStore:
    """Keeps test mode's Stripe-shaped objects in the stripe_test_objects table."""

    def get(self, object_id: str) -> dict[str, Any] | None:
        row = db.session.get(StripeTestObject, object_id)
        return json.loads(row.data) if row is not None else None

    def put(self, obj: dict[str, Any]) -> None:
        row = db.session.get(StripeTestObject, obj["id"])
        if row is None:
            row = StripeTestObject(id=obj["id"], object_type=str(obj.get("object", "")))
            db.session.add(row)
        row.data = json.dumps(obj)
        db.session.flush()


def _template(endpoint: str, name: str) -> str:
    """Return the absolute URL of ``endpoint`` with ``{name}`` where its value goes."""
    marker = "XXMARKERXX"
    return absolute_url(endpoint, **{name: marker}).replace(marker, "{" + name + "}")


def _local_stripe() -> OfflineStripe:
    settings = get_giving_settings()
    return OfflineStripe(
        DatabaseStore(),
        fee_percent_bp=settings.fee_percent_bp,
        fee_fixed_cents=settings.fee_fixed_cents,
        api_version=current_app.config["STRIPE_API_VERSION"],
        checkout_url_template=_template("give.test_checkout", "id"),
        portal_url_template=_template("give.test_portal", "customer"),
    )


def _local_gateway():

    if not is_test_mode():
        raise NotFound("Test payments are only available in test mode.")
    gateway = get_gateway()
    assert isinstance(gateway, LocalGateway)
    return gateway


def _deliver(events: list[dict[str, Any]], gateway: PaymentGateway) -> None:
    """Send Stripe-shaped events through the webhook code, signed as Stripe signs them."""
    secret = webhook_secret() or ""
    for event in events:
        payload = json.dumps(event)
        stripe_events.receive_webhook(
            payload=payload.encode(), signature=sign_payload(payload, secret), gateway=gateway
        )


def test_checkout_session(session_id: str) -> dict[str, Any]:
    """Return the local checkout session (its amount, currency, mode and state)."""
    gateway = _local_gateway()
    session = gateway.local.store.get(session_id)
    if session is None or session.get("object") != "checkout.session":
        raise NotFound("There is no such test checkout.")
    return session


def complete_test_checkout(*, session_id: str, outcome: str = "paid") -> Gift:
    """Pay (or, with outcome="cancel", abandon) a local test checkout through the webhook path."""
    gateway = _local_gateway()
    session = test_checkout_session(session_id)
    if session.get("status") != "open":
        raise InvalidInput("This test checkout is already finished.")
    if outcome == "paid":
        events = gateway.local.pay_checkout_session(session_id)
    elif outcome == "cancel":
        events = gateway.local.expire_checkout_session(session_id)
    else:
        raise InvalidInput("Unknown test payment outcome.")
    _deliver(events, gateway)
    gift = db.session.scalar(select(Gift).where(Gift.stripe_checkout_session_id == session_id))
    if gift is None:
        raise NotFound("No gift belongs to this test checkout.")
    return gift


def cancel_test_plan(*, plan: RecurringPlan) -> RecurringPlan:
    """Cancel a monthly gift in test mode, through the same events Stripe would send."""
    gateway = _local_gateway()
    if not plan.stripe_subscription_id:
        raise InvalidInput("This monthly gift has not started yet.")
    if plan.status == PlanStatus.CANCELLED:
        raise InvalidInput("This monthly gift is already cancelled.")
    _deliver(gateway.local.cancel_subscription(plan.stripe_subscription_id), gateway)
    return plan


def plan_for_customer(customer_id: str) -> RecurringPlan:
    plan = db.session.scalar(
        select(RecurringPlan)
        .where(RecurringPlan.stripe_customer_id == customer_id)
        .order_by(RecurringPlan.id.desc())
    )
    if plan is None:
        raise NotFound("There is no monthly gift for this link.")
    return plan
