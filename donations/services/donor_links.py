"""Signed links for donors: their thank-you page and their monthly gift's manage link
(re-exported by ``giving``, where they were first)."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from donations.extensions import db
from donations.models import Gift, RecurringPlan
from donations.services.errors import NotFound


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"donations.{purpose}")


def gift_token(gift: Gift) -> str:
    """A token that lets the donor's browser see its own thank-you page."""
    return _serializer("gift").dumps(gift.id)


def gift_for_token(token: str) -> Gift:
    try:
        gift_id = _serializer("gift").loads(token)
    except BadSignature:
        raise NotFound("This link is not valid.") from None
    gift = db.session.get(Gift, gift_id) if isinstance(gift_id, int) else None
    if gift is None:
        raise NotFound("This link is not valid.")
    return gift


def plan_token(plan: RecurringPlan) -> str:
    """A token for the donor's "manage my monthly gift" link."""
    return _serializer("plan").dumps(plan.id)


def plan_for_token(token: str) -> RecurringPlan:
    try:
        plan_id = _serializer("plan").loads(token)
    except BadSignature:
        raise NotFound("This link is not valid.") from None
    plan = db.session.get(RecurringPlan, plan_id) if isinstance(plan_id, int) else None
    if plan is None:
        raise NotFound("This link is not valid.")
    return plan
