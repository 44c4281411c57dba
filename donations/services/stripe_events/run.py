"""One processing run of a Stripe event: what it touched, and how it can stop short."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from donations.integrations.stripe_gateway import PaymentGateway
from donations.models import Gift, RecurringPlan

Json = dict[str, Any]


# A handler raises Parked or NotOurs before it changes anything: a batch run together
# then records the refusal and goes on (``receiving._process_batch``); a refusal after a
# change is found out there, and the batch runs again one event at a time.


class Parked(Exception):
    """The event is about a payment not yet linked to any gift; retry it later."""

    def __init__(self, object_id: str, reason: str) -> None:
        super().__init__(reason)
        self.object_id = object_id
        self.reason = reason


class NotOurs(Exception):
    """The event is about something this site did not start (e.g. another app's sale)."""


@dataclass
class Run:
    """One processing run: the gateway, and what the handlers touched."""

    gateway: PaymentGateway
    now: datetime | None = None  # when it happens; the clock's time when None (the demo sets it)
    gift: Gift | None = None
    plan: RecurringPlan | None = None
    linked_ids: set[str] = field(default_factory=set)
