"""The simulator's objects and state: Stripe's limits, errors, the object store, signing.

Together with its sibling modules this is a tiny Stripe: Stripe-shaped objects
and the webhook events Stripe would send.

Standard library only (it never imports ``stripe``). ``LocalStripe`` keeps
objects in an ``ObjectStore`` exactly as Stripe returns them (API version
"basil" and later, shapes as in Stripe's own ``fixtures3.json``), answers the
few API calls the app makes (``create_checkout_session``, ``retrieve`` with
``expand``, ``create_portal_session``), and plays scenarios (a donor pays,
a bank debit fails, a refund, a dispute, a renewal) by changing the stored
objects the way Stripe would and returning the events Stripe would send.

Stored objects hold ids where Stripe's API has expandable fields; fields
Stripe leaves out unless asked for (``checkout.session.line_items``,
``invoice.payments``, ``charge.refunds``) are stored but only shown when
expanded, and never in events.
"""

from __future__ import annotations

import calendar
import copy
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

Json = dict[str, Any]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DEFAULT_API_VERSION = "2026-10-28.endive"

# Fields Stripe includes only when expanded ("includable" fields).
INCLUDABLE: dict[str, tuple[str, ...]] = {
    "checkout.session": ("line_items",),
    "invoice": ("payments",),
    "charge": ("refunds",),
}

ZERO_DECIMAL = _words("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf")
# Stripe's minimum charge amounts, in minor units, for the common currencies.
MINIMUM_AMOUNT = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "cad": 50,
    "aud": 50,
    "nzd": 50,
    "chf": 50,
    "sgd": 50,
    "jpy": 50,
    "dkk": 250,
    "nok": 300,
    "sek": 300,
    "hkd": 400,
    "mxn": 1000,
}

OPEN_DISPUTE_STATUSES = frozenset(
    {"warning_needs_response", "needs_response", "under_review", "warning_under_review"}
)

_CHECKOUT_PARAMS = _words(
    """adaptive_pricing after_expiration allow_promotion_codes automatic_tax
    billing_address_collection branding_settings cancel_url client_reference_id
    consent_collection currency custom_fields custom_text customer customer_account
    customer_creation customer_email customer_update discounts
    excluded_payment_method_types expand expires_at invoice_creation line_items locale
    metadata mode name_collection optional_items origin_context payment_intent_data
    payment_method_collection payment_method_configuration payment_method_data
    payment_method_options payment_method_types permissions phone_number_collection
    redirect_on_completion return_url saved_payment_method_options setup_intent_data
    shipping_address_collection shipping_options submit_type subscription_data success_url
    tax_id_collection ui_mode wallet_options"""
)
_LINE_ITEM_PARAMS = _words(
    "adjustable_quantity dynamic_tax_rates metadata price price_data quantity tax_rates"
)
_PRICE_DATA_PARAMS = _words(
    "currency product product_data recurring tax_behavior unit_amount unit_amount_decimal"
)
_PRODUCT_DATA_PARAMS = _words("description images metadata name tax_code unit_label")
_RECURRING_PARAMS = frozenset(("interval", "interval_count"))
_PAYMENT_INTENT_DATA_PARAMS = _words(
    """application_fee_amount capture_method description metadata on_behalf_of
    receipt_email setup_future_usage shipping statement_descriptor
    statement_descriptor_suffix transfer_data transfer_group"""
)
_SUBSCRIPTION_DATA_PARAMS = _words(
    """application_fee_percent billing_cycle_anchor billing_mode default_tax_rates
    description invoice_settings metadata on_behalf_of pending_invoice_item_interval
    proration_behavior transfer_data trial_end trial_period_days trial_settings"""
)
_PORTAL_PARAMS = _words(
    "configuration customer customer_account expand flow_data locale on_behalf_of return_url"
)

_EVIDENCE_FIELDS = _words(
    """access_activity_log billing_address cancellation_policy
    cancellation_policy_disclosure cancellation_rebuttal customer_communication
    customer_email_address customer_name customer_purchase_ip customer_signature
    duplicate_charge_documentation duplicate_charge_explanation duplicate_charge_id
    product_description receipt refund_policy refund_policy_disclosure
    refund_refusal_explanation service_date service_documentation shipping_address
    shipping_carrier shipping_date shipping_documentation shipping_tracking_number
    uncategorized_file uncategorized_text"""
)

_ADDRESS = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}


class LocalStripeError(Exception):
    """What Stripe would answer with an error: HTTP status, error code and message."""

    def __init__(
        self,
        http_status: int,
        code: str | None,
        message: str,
        *,
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.param = param
        self.error_type = error_type

    def to_json(self) -> Json:
        """Return the error body Stripe's API would send."""
        error: Json = {"type": self.error_type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def _missing(object_type: str, object_id: str) -> LocalStripeError:
    name = object_type.split(".")[-1]
    return LocalStripeError(404, "resource_missing", f"No such {name}: '{object_id}'", param="id")


def _state_error(message: str) -> LocalStripeError:
    return LocalStripeError(400, "invalid_state", message)


# --- storage ---------------------------------------------------------------


class ObjectStore(Protocol):
    """Where LocalStripe keeps Stripe objects, by id."""

    def get(self, object_id: str) -> Json | None: ...
    def put(self, obj: Json) -> None: ...


class MemoryStore:
    """A thread-safe dict of objects; hands out and keeps deep copies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, Json] = {}

    def get(self, object_id: str) -> Json | None:
        with self._lock:
            obj = self._objects.get(object_id)
            return copy.deepcopy(obj) if obj is not None else None

    def put(self, obj: Json) -> None:
        if not obj.get("id") or not obj.get("object"):
            raise ValueError("a stored object needs an id and an object type")
        with self._lock:
            self._objects[obj["id"]] = copy.deepcopy(obj)

    def objects(self, object_type: str | None = None) -> list[Json]:
        """Return copies of every stored object (of one type), oldest first."""
        with self._lock:
            return [
                copy.deepcopy(obj)
                for obj in self._objects.values()
                if object_type is None or obj["object"] == object_type
            ]

    def clear(self) -> None:
        with self._lock:
            self._objects.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)


# --- signing ----------------------------------------------------------------


def sign_payload(payload: str | bytes, secret: str, timestamp: int | None = None) -> str:
    """Return the Stripe-Signature header value Stripe would send with ``payload``."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    t = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode("utf-8"), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


# --- small helpers -----------------------------------------------------------


def new_id(prefix: str, size: int = 12) -> str:
    """Return a fresh Stripe-looking id such as ``ch_3f9a...``."""
    return prefix + secrets.token_hex(size)


def _list(url: str, data: list[Json] | None = None) -> Json:
    data = data or []
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "total_count": len(data),
        "url": url,
    }


def _strip_includables(obj: Json, keep: Iterable[str] = ()) -> Json:
    """Drop what the API shows only when expanded, and LocalStripe's own notes ("_...")."""
    for name in INCLUDABLE.get(obj.get("object") or "", ()):
        if name not in keep:
            obj.pop(name, None)
    for name in [key for key in obj if key.startswith("_")]:
        del obj[name]
    return obj


def _metadata(value: Any, param: str) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise LocalStripeError(400, "parameter_invalid", f"Invalid object for {param}", param=param)
    if len(value) > 50:
        raise LocalStripeError(
            400, "parameter_invalid", "Metadata can have at most 50 keys.", param=param
        )
    result = {}
    for key, item in value.items():
        key, item = str(key), "" if item is None else str(item)
        if len(key) > 40:
            raise LocalStripeError(
                400,
                "parameter_invalid",
                f"Metadata keys can have up to 40 characters: '{key}'.",
                param=f"{param}[{key}]",
            )
        if len(item) > 500:
            raise LocalStripeError(
                400,
                "parameter_invalid",
                f"Metadata values can have up to 500 characters: '{key}'.",
                param=f"{param}[{key}]",
            )
        if item != "":
            result[key] = item
    return result


def _integer(value: Any, param: str, *, minimum: int = 0) -> int:
    try:
        number = int(value)
        if isinstance(value, float | bool) or str(number) != str(value).strip():
            raise ValueError(value)
    except (TypeError, ValueError):
        raise LocalStripeError(
            400, "parameter_invalid_integer", f"Invalid integer: {value}", param=param
        ) from None
    if number < minimum:
        raise LocalStripeError(
            400,
            "parameter_invalid_integer",
            f"This value must be greater than or equal to {minimum}.",
            param=param,
        )
    return number


def _require(params: Mapping[str, Any], name: str, prefix: str = "") -> Any:
    value = params.get(name)
    if value is None:
        param = f"{prefix}[{name}]" if prefix else name
        raise LocalStripeError(
            400, "parameter_missing", f"Missing required param: {param}.", param=param
        )
    return value


def _check_known(params: Any, allowed: frozenset[str], prefix: str) -> Mapping[str, Any]:
    if params in (None, ""):
        return {}
    if not isinstance(params, Mapping):
        raise LocalStripeError(
            400, "parameter_invalid", f"Invalid object for {prefix}", param=prefix
        )
    for name in params:
        if name not in allowed:
            param = f"{prefix}[{name}]" if prefix else name
            raise LocalStripeError(
                400, "parameter_unknown", f"Received unknown parameter: {param}", param=param
            )
    return params


def _check_not_empty(value: Any, param: str) -> None:
    """Refuse empty strings, as Stripe does for values that cannot be unset."""
    if value == "":
        raise LocalStripeError(
            400,
            "parameter_invalid_empty",
            f"You passed an empty string for '{param}'. We assume empty values are an "
            f"attempt to unset a parameter; however '{param}' cannot be unset. You should "
            f"remove '{param}' from your request or supply a non-empty value.",
            param=param,
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key != "metadata":
                _check_not_empty(item, f"{param}[{key}]" if param else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_not_empty(item, f"{param}[{index}]")


def _currency(value: Any, param: str) -> str:
    currency = str(value).lower()
    if len(currency) != 3 or not currency.isalpha():
        raise LocalStripeError(400, "parameter_invalid", f"Invalid currency: {value}", param=param)
    return currency


def round_half_up(numerator: int, denominator: int) -> int:
    """Return numerator / denominator rounded half up, in integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def add_interval(anchor: int, interval: str, count: int, cycles: int) -> int:
    """Return ``anchor`` moved ``cycles`` billing periods forward, as Stripe counts them.

    Months keep the anchor's day of month, clamped to the month's last day
    (Jan 31 -> Feb 28 -> Mar 31).
    """
    if interval in ("month", "year"):
        start = datetime.fromtimestamp(anchor, UTC)
        months = cycles * count * (12 if interval == "year" else 1)
        year, month = divmod(start.month - 1 + months, 12)
        year += start.year
        day = min(start.day, calendar.monthrange(year, month + 1)[1])
        return int(start.replace(year=year, month=month + 1, day=day).timestamp())
    days = {"day": 1, "week": 7}[interval]
    return anchor + cycles * count * days * 86400


# --- the tiny Stripe ---------------------------------------------------------
