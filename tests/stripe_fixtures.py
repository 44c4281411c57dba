"""Pytest fixtures for the local Stripe server, and a helper to deliver webhooks.

Load with ``pytest_plugins = ["stripe_fixtures"]``. PYTEST_DONT_REWRITE: test modules
import ``deliver`` from here, which may happen before pytest loads it as a plugin.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from fakes.stripe import DEFAULT_API_VERSION, sign_payload
from fakes.stripe.server import StripeServer

API_KEY = "sk_test_x"
WEBHOOK_SECRET = "whsec_test"
API_VERSION = DEFAULT_API_VERSION
WEBHOOK_PATH = "/stripe/webhook"


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[StripeServer]:
    """One local Stripe API for the whole run."""
    server = StripeServer(api_version=API_VERSION).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stripe_api(stripe_server: StripeServer) -> StripeServer:
    """The local Stripe API, emptied for this test."""
    stripe_server.reset()
    return stripe_server


@pytest.fixture
def stripe_gateway(stripe_api: StripeServer):
    """A real StripeGateway talking to the local Stripe API (no retries, short timeout)."""
    from donations.integrations.stripe_gateway import StripeGateway

    return StripeGateway(
        secret_key=API_KEY,
        webhook_secret=WEBHOOK_SECRET,
        api_base=stripe_api.url,
        api_version=API_VERSION,
        timeout=5,
        max_network_retries=0,
    )


def deliver(
    client: Any,
    event: dict[str, Any],
    secret: str = WEBHOOK_SECRET,
    *,
    timestamp: int | None = None,
    signature: str | None = None,
):
    """POST ``event`` to the webhook as Stripe would: JSON body, Stripe-Signature header.

    ``signature`` replaces the computed header; ``signature=""`` sends none.
    Returns the Flask test client's response.
    """
    payload = json.dumps(event)
    header = sign_payload(payload, secret, timestamp) if signature is None else signature
    headers = {"Stripe-Signature": header} if header else {}
    return client.post(WEBHOOK_PATH, data=payload, headers=headers, content_type="application/json")
