"""The full Stripe simulator the suite talks to, one concern a module.

``objects`` holds the object store, Stripe's limits and the helpers (signing,
ids, parameter validation); ``core`` builds, reads and expands objects and
events; ``checkout`` creates checkout and portal sessions as Stripe validates
them; ``payments`` plays one-time payments, bank debits (async), refunds and
disputes; ``subscriptions`` plays monthly gifts; ``server`` puts it all
behind Stripe's HTTP API. The product's own test mode is the much
smaller ``donations.integrations.local_gateway``.
"""

from fakes.stripe.checkout import CheckoutApi
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


class LocalStripe(CheckoutApi, PaymentScenarios, SubscriptionScenarios):
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
