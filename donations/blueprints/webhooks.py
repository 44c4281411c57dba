"""Stripe's webhook: verify, store, answer at once; the job queue processes the event."""

from __future__ import annotations

import logging

from flask import Blueprint, request

from donations.authz import public
from donations.extensions import csrf
from donations.jobs import stripe_webhooks
from donations.services import organizations, payments, stripe_events
from donations.services.payments import SignatureError
from donations.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)


@bp.post("/stripe/webhook/<slug>")
@public
@csrf.exempt
def organization_stripe_webhook(slug: str):
    """An organisation's own endpoint: its events, checked with its webhook secret; one
    posted to another organisation's endpoint fails the signature (400, nothing stored)."""
    if not organizations.use_organization_of(slug):
        return {"error": "no such organisation"}, 404
    return stripe_webhook()


@bp.post("/stripe/webhook")
@public
@csrf.exempt
def stripe_webhook():
    """Receive one Stripe event: 400 if its signature fails, else store it, enqueue its
    processing for after the commit and say 200 without waiting for it."""
    gateway = payments.webhook_gateway()
    if gateway is None:
        log.error(
            "a Stripe webhook arrived but no webhook secret is set "
            "(Admin → Payments, or STRIPE_WEBHOOK_SECRET)"
        )
        return {"error": "webhook secret not configured"}, 400
    with unit_of_work(errors=(SignatureError,)) as work:
        receipt = stripe_events.receive_webhook(
            payload=request.get_data(cache=False),
            signature=request.headers.get("Stripe-Signature"),
            gateway=gateway,
            defer=True,
        )
        if not receipt.duplicate:
            stripe_webhooks.wake_after_commit()
    if work.error is not None:
        log.warning("refused a Stripe webhook from %s: %s", request.remote_addr, work.error)
        return {"error": "invalid signature"}, 400
    return {"received": True, "duplicate": receipt.duplicate}
