"""The full Stripe simulator the suite talks to, one concern a module.

``objects`` holds the object store, Stripe's limits and the helpers (signing,
ids, validation); ``core`` builds and reads objects and events and creates
checkout and portal sessions; ``payments`` plays one-time payments, bank
debits, refunds and disputes; ``subscriptions`` plays monthly gifts; ``server``
puts it all behind Stripe's HTTP API. The product's own test mode is the much
smaller ``donations.integrations.local_gateway``.
"""

from fakes.stripe.objects import (
    DEFAULT_API_VERSION,
    LocalStripeError,
    MemoryStore,
    ObjectStore,
    add_interval,
    new_id,
    round_half_up,
    sign_payload,
)
from fakes.stripe.payments import PaymentScenarios
from fakes.stripe.subscriptions import SubscriptionScenarios


class LocalStripe(PaymentScenarios, SubscriptionScenarios):
    """Stripe's objects, API answers and webhook events, kept in ``store``."""


__all__ = [
    "DEFAULT_API_VERSION",
    "LocalStripe",
    "LocalStripeError",
    "MemoryStore",
    "ObjectStore",
    "add_interval",
    "new_id",
    "round_half_up",
    "sign_payload",
]
