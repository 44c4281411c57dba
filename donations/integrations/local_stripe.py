"""A tiny Stripe: Stripe-shaped objects and the webhook events Stripe would send.

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
from collections.abc import Callable, Iterable, Mapping
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


class LocalStripe:
    """Stripe's objects, API answers and webhook events, kept in ``store``."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        fee_percent_bp: int = 290,
        fee_fixed_cents: int = 30,
        api_version: str = DEFAULT_API_VERSION,
        checkout_url_template: str = "https://checkout.local/{id}",
        portal_url_template: str = "https://billing.local/{customer}",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.fee_percent_bp = fee_percent_bp
        self.fee_fixed_cents = fee_fixed_cents
        self.api_version = api_version
        self.checkout_url_template = checkout_url_template
        self.portal_url_template = portal_url_template
        self.clock = clock
        self._lock = threading.RLock()

    # --- plumbing ----------------------------------------------------------

    def now(self) -> int:
        return int(self.clock())

    def _load(self, object_type: str, object_id: str) -> Json:
        obj = self.store.get(object_id) if object_id else None
        if obj is None or obj.get("object") != object_type:
            raise _missing(object_type, object_id)
        return obj

    def _save(self, *objects: Json) -> None:
        for obj in objects:
            self.store.put(obj)

    def processing_fee(self, amount: int) -> int:
        """Return Stripe's fee on a charge of ``amount``: percent (half up) plus fixed."""
        return round_half_up(amount * self.fee_percent_bp, 10_000) + self.fee_fixed_cents

    def render(self, obj: Json, expand: Iterable[str] = ()) -> Json:
        """Return a copy of ``obj`` as the API shows it, with ``expand`` paths expanded."""
        paths = [path.split(".") for path in expand if path]
        return self._render(copy.deepcopy(obj), paths, "")

    def _render(self, obj: Json, paths: list[list[str]], where: str) -> Json:
        heads: dict[str, list[list[str]]] = {}
        for path in paths:
            heads.setdefault(path[0], []).append(path[1:])
        _strip_includables(obj, heads)
        for field, rests in heads.items():
            name = f"{where}.{field}" if where else field
            if field not in obj:
                raise LocalStripeError(
                    400, None, f"This property cannot be expanded ({name}).", param="expand"
                )
            obj[field] = self._expand(obj[field], rests, name)
        return obj

    def _expand(self, value: Any, paths: list[list[str]], where: str) -> Any:
        deeper = [path for path in paths if path]
        if isinstance(value, list):
            return [self._expand(item, paths, where) for item in value]
        if isinstance(value, str):
            stored = self.store.get(value)
            if stored is None:
                raise LocalStripeError(
                    400, None, f"This property cannot be expanded ({where}).", param="expand"
                )
            return self._render(stored, deeper, where)
        if isinstance(value, dict):
            return self._render(value, deeper, where)
        return value

    def event(
        self,
        type: str,
        obj: Json,
        *,
        previous_attributes: Json | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        """Return (and store) the event Stripe would send about ``obj`` as it is now."""
        data: Json = {"object": self.render(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(previous_attributes)
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": self.api_version,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": request_id, "idempotency_key": idempotency_key},
            "type": type,
        }
        self.store.put(event)
        return copy.deepcopy(event)

    # --- the API -----------------------------------------------------------

    def retrieve(self, object_type: str, object_id: str, expand: Iterable[str] = ()) -> Json:
        """Return the object as GET /v1/<objects>/<id> would, with ``expand`` expanded."""
        with self._lock:
            return self.render(self._load(object_type, object_id), expand)

    def create_checkout_session(self, params: Mapping[str, Any]) -> Json:
        """Create a Checkout Session as POST /v1/checkout/sessions does; return it."""
        with self._lock:
            return self.render(self._create_checkout_session(params))

    def _create_checkout_session(self, params: Mapping[str, Any]) -> Json:
        params = _check_known(params, _CHECKOUT_PARAMS, "")
        _check_not_empty({k: v for k, v in params.items() if k != "metadata"}, "")
        mode = _require(params, "mode")
        if mode not in ("payment", "subscription", "setup"):
            raise LocalStripeError(400, "parameter_invalid", f"Invalid mode: {mode}", param="mode")
        if mode == "setup":
            raise LocalStripeError(
                400, "parameter_invalid", "This tiny Stripe has no setup mode.", param="mode"
            )
        ui_mode = params.get("ui_mode") or "hosted"
        if ui_mode == "hosted":
            _require(params, "success_url")
        if params.get("submit_type") is not None and mode != "payment":
            raise LocalStripeError(
                400,
                "parameter_invalid",
                "`submit_type` can only be used in `payment` mode.",
                param="submit_type",
            )
        if params.get("payment_intent_data") is not None and mode != "payment":
            raise LocalStripeError(
                400,
                "parameter_invalid",
                "You can only specify `payment_intent_data` in `payment` mode.",
                param="payment_intent_data",
            )
        if params.get("subscription_data") is not None and mode != "subscription":
            raise LocalStripeError(
                400,
                "parameter_invalid",
                "You can only specify `subscription_data` in `subscription` mode.",
                param="subscription_data",
            )
        if params.get("customer") and params.get("customer_email"):
            raise LocalStripeError(
                400,
                "parameter_invalid",
                "You may only specify one of these parameters: customer, customer_email.",
                param="customer_email",
            )
        if params.get("customer"):
            self._load("customer", params["customer"])
        pi_data = _check_known(
            params.get("payment_intent_data"), _PAYMENT_INTENT_DATA_PARAMS, "payment_intent_data"
        )
        sub_data = _check_known(
            params.get("subscription_data"), _SUBSCRIPTION_DATA_PARAMS, "subscription_data"
        )
        raw_items = _require(params, "line_items")
        if isinstance(raw_items, Mapping):  # {"0": {...}} from an un-listified form
            raw_items = [raw_items[k] for k in sorted(raw_items, key=int)]
        if not isinstance(raw_items, list) or not raw_items:
            raise LocalStripeError(
                400, "parameter_missing", "Missing required param: line_items.", param="line_items"
            )

        now = self.now()
        session_id = new_id("cs_test_", 29)
        items = [
            self._line_item(raw, f"line_items[{index}]", now) for index, raw in enumerate(raw_items)
        ]
        currencies = {item["currency"] for item in items}
        if len(currencies) > 1:
            raise LocalStripeError(
                400,
                "parameter_invalid",
                "All line items must share one currency.",
                param="line_items",
            )
        currency = currencies.pop()
        recurring = [item for item in items if item["price"]["recurring"]]
        if mode == "payment" and recurring:
            raise LocalStripeError(
                400,
                "parameter_invalid",
                "You specified `payment` mode but passed a recurring price. Either switch "
                "to `subscription` mode or use only one-time prices.",
                param="line_items",
            )
        if mode == "subscription" and not recurring:
            raise LocalStripeError(
                400,
                "parameter_invalid",
                "You must provide at least one recurring price in `subscription` mode "
                "when using prices.",
                param="line_items",
            )
        total = sum(item["amount_total"] for item in items)
        minimum = MINIMUM_AMOUNT.get(currency)
        if minimum is not None and total < minimum:
            shown = (
                f"{minimum} {currency}"
                if currency in ZERO_DECIMAL
                else f"{minimum // 100}.{minimum % 100:02d} {currency}"
            )
            raise LocalStripeError(
                400,
                "amount_too_small",
                f"The Checkout Session's total amount due must add up to at least {shown}.",
                param="line_items",
            )
        metadata = _metadata(params.get("metadata"), "metadata")
        session: Json = {
            "id": session_id,
            "object": "checkout.session",
            "adaptive_pricing": {"enabled": False},
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": total,
            "amount_total": total,
            "automatic_tax": {
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "billing_address_collection": None,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "client_secret": None,
            "collected_information": None,
            "consent": None,
            "consent_collection": None,
            "created": now,
            "currency": currency,
            "currency_conversion": None,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": params.get("customer"),
            "customer_creation": "if_required" if mode == "payment" else None,
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "discounts": [],
            "expires_at": _integer(params.get("expires_at", now + 86400), "expires_at"),
            "invoice": None,
            "invoice_creation": (
                {"enabled": False, "invoice_data": None} if mode == "payment" else None
            ),
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": metadata,
            "mode": mode,
            "origin_context": None,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "always" if mode == "subscription" else None,
            "payment_method_configuration_details": None,
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "permissions": None,
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "saved_payment_method_options": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": params.get("submit_type"),
            "subscription": None,
            "success_url": params.get("success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": ui_mode,
            "url": self.checkout_url_template.format(id=session_id),
            "wallet_options": None,
            "line_items": _list(f"/v1/checkout/sessions/{session_id}/line_items", items),
            # Kept by Stripe but not shown: what the session hands on when paid.
            "_local": {
                "payment_intent_metadata": _metadata(
                    pi_data.get("metadata"), "payment_intent_data[metadata]"
                ),
                "subscription_metadata": _metadata(
                    sub_data.get("metadata"), "subscription_data[metadata]"
                ),
            },
        }
        self._save(session)
        return session

    def _line_item(self, raw: Any, param: str, now: int) -> Json:
        raw = _check_known(raw, _LINE_ITEM_PARAMS, param)
        quantity = _integer(raw.get("quantity", 1), f"{param}[quantity]", minimum=1)
        if raw.get("price") is not None:
            price = self._load("price", raw["price"])
        else:
            data = _check_known(
                _require(raw, "price_data", param), _PRICE_DATA_PARAMS, f"{param}[price_data]"
            )
            price = self._price(data, f"{param}[price_data]", now)
        amount = price["unit_amount"] * quantity
        product = self._load("product", price["product"])
        return {
            "id": new_id("li_"),
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": price["currency"],
            "description": product["name"],
            "price": price,
            "quantity": quantity,
        }

    def _price(self, data: Mapping[str, Any], param: str, now: int) -> Json:
        currency = _currency(_require(data, "currency", param), f"{param}[currency]")
        if data.get("unit_amount") is None and data.get("unit_amount_decimal") is not None:
            unit_amount = _integer(data["unit_amount_decimal"], f"{param}[unit_amount_decimal]")
        else:
            unit_amount = _integer(_require(data, "unit_amount", param), f"{param}[unit_amount]")
        if data.get("product") is not None:
            product = self._load("product", data["product"])
        else:
            product_data = _check_known(
                _require(data, "product_data", param),
                _PRODUCT_DATA_PARAMS,
                f"{param}[product_data]",
            )
            product = {
                "id": new_id("prod_", 7),
                "object": "product",
                "active": True,
                "created": now,
                "default_price": None,
                "description": product_data.get("description"),
                "images": [],
                "livemode": False,
                "marketing_features": [],
                "metadata": _metadata(product_data.get("metadata"), f"{param}[product_data]"),
                "name": str(_require(product_data, "name", f"{param}[product_data]")),
                "package_dimensions": None,
                "shippable": None,
                "statement_descriptor": None,
                "tax_code": None,
                "unit_label": None,
                "updated": now,
                "url": None,
            }
            self._save(product)
        recurring = None
        if data.get("recurring") not in (None, ""):
            spec = _check_known(data["recurring"], _RECURRING_PARAMS, f"{param}[recurring]")
            interval = _require(spec, "interval", f"{param}[recurring]")
            if interval not in ("day", "week", "month", "year"):
                raise LocalStripeError(
                    400,
                    "parameter_invalid",
                    f"Invalid recurring interval: {interval}",
                    param=f"{param}[recurring][interval]",
                )
            recurring = {
                "interval": interval,
                "interval_count": _integer(
                    spec.get("interval_count", 1), f"{param}[recurring][interval_count]", minimum=1
                ),
                "meter": None,
                "trial_period_days": None,
                "usage_type": "licensed",
            }
        price = {
            "id": new_id("price_", 12),
            "object": "price",
            "active": False,
            "billing_scheme": "per_unit",
            "created": now,
            "currency": currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": product["id"],
            "recurring": recurring,
            "tax_behavior": "unspecified",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }
        self._save(price)
        return price

    def create_portal_session(self, customer: str, return_url: str) -> Json:
        """Create a customer portal session as POST /v1/billing_portal/sessions does."""
        with self._lock:
            if not customer:
                raise LocalStripeError(
                    400,
                    "parameter_missing",
                    "Missing required param: customer.",
                    param="customer",
                )
            self._load("customer", customer)
            session_id = new_id("bps_")
            session = {
                "id": session_id,
                "object": "billing_portal.session",
                "configuration": "bpc_local",
                "created": self.now(),
                "customer": customer,
                "customer_account": None,
                "flow": None,
                "livemode": False,
                "locale": None,
                "on_behalf_of": None,
                "return_url": return_url or None,
                "url": self.portal_url_template.format(customer=customer, id=session_id),
            }
            self._save(session)
            return self.render(session)

    def create_portal_session_from_params(self, params: Mapping[str, Any]) -> Json:
        """Create a portal session from the form parameters of the API call."""
        params = _check_known(params, _PORTAL_PARAMS, "")
        _check_not_empty(dict(params), "")
        return self.create_portal_session(params.get("customer") or "", params.get("return_url"))

    # --- object builders -----------------------------------------------------

    def _customer(self, email: str | None, name: str | None) -> Json:
        customer = {
            "id": new_id("cus_", 7),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": self.now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "discount": None,
            "email": email,
            "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": {},
            "name": name,
            "next_invoice_sequence": 1,
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self._save(customer)
        return customer

    def _payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        metadata: dict[str, str],
        method_type: str,
        description: str | None = None,
    ) -> Json:
        pi_id = new_id("pi_")
        return {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{pi_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": "automatic",
            "created": self.now(),
            "currency": currency,
            "customer": customer,
            "description": description,
            "excluded_payment_method_types": None,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": dict(metadata),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": new_id("pm_"),
            "payment_method_configuration_details": None,
            "payment_method_options": {},
            "payment_method_types": [method_type],
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "source": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }

    def _charge(self, pi: Json, email: str | None) -> Json:
        """Return a new charge for ``pi`` (not yet stored), still pending."""
        charge_id = new_id("ch_")
        method_type = pi["payment_method_types"][0]
        if method_type == "us_bank_account":
            details: Json = {
                "type": "us_bank_account",
                "us_bank_account": {
                    "account_holder_type": "individual",
                    "account_type": "checking",
                    "bank_name": "STRIPE TEST BANK",
                    "fingerprint": secrets.token_hex(8),
                    "last4": "6789",
                    "mandate": None,
                    "payment_reference": None,
                    "routing_number": "110000000",
                },
            }
        else:
            details = {
                "type": "card",
                "card": {
                    "amount_authorized": pi["amount"],
                    "brand": "visa",
                    "checks": {
                        "address_line1_check": None,
                        "address_postal_code_check": None,
                        "cvc_check": "pass",
                    },
                    "country": "US",
                    "exp_month": 12,
                    "exp_year": datetime.fromtimestamp(self.now(), UTC).year + 3,
                    "fingerprint": secrets.token_hex(8),
                    "funding": "credit",
                    "last4": "4242",
                    "network": "visa",
                    "three_d_secure": None,
                    "wallet": None,
                },
            }
        return {
            "id": charge_id,
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None,
            "billing_details": {
                "address": dict(_ADDRESS),
                "email": email,
                "name": None,
                "phone": None,
                "tax_id": None,
            },
            "calculated_statement_descriptor": "LOCAL STRIPE",
            "captured": False,
            "created": self.now(),
            "currency": pi["currency"],
            "customer": pi["customer"],
            "description": pi["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(pi["metadata"]),
            "on_behalf_of": None,
            "outcome": None,
            "paid": False,
            "payment_intent": pi["id"],
            "payment_method": pi["payment_method"],
            "payment_method_details": details,
            "radar_options": {},
            "receipt_email": None,
            "receipt_number": None,
            "receipt_url": f"https://pay.local/receipts/{charge_id}",
            "refunded": False,
            "refunds": _list(f"/v1/charges/{charge_id}/refunds"),
            "review": None,
            "shipping": None,
            "source": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "pending",
            "transfer_data": None,
            "transfer_group": None,
        }

    def _balance_transaction(
        self,
        *,
        amount: int,
        fee: int,
        currency: str,
        source: str,
        kind: str,
        category: str,
        description: str | None = None,
        fee_description: str = "Stripe processing fees",
    ) -> Json:
        now = self.now()
        bt = {
            "id": new_id("txn_"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": now + 2 * 86400,
            "balance_type": "payments",
            "created": now,
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": (
                [
                    {
                        "amount": fee,
                        "application": None,
                        "currency": currency,
                        "description": fee_description,
                        "type": "stripe_fee",
                    }
                ]
                if fee
                else []
            ),
            "net": amount - fee,
            "reporting_category": category,
            "source": source,
            "status": "pending",
            "type": kind,
        }
        self._save(bt)
        return bt

    def _succeed_charge(self, charge: Json, pi: Json) -> None:
        """Mark ``charge`` and ``pi`` succeeded and create the balance transaction."""
        bt = self._balance_transaction(
            amount=charge["amount"],
            fee=self.processing_fee(charge["amount"]),
            currency=charge["currency"],
            source=charge["id"],
            kind="charge",
            category="charge",
            description=charge["description"],
        )
        charge.update(
            status="succeeded",
            paid=True,
            captured=True,
            amount_captured=charge["amount"],
            balance_transaction=bt["id"],
            failure_code=None,
            failure_message=None,
            outcome={
                "advice_code": None,
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "risk_score": 12,
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
        )
        pi.update(
            status="succeeded",
            amount_received=pi["amount"],
            latest_charge=charge["id"],
            last_payment_error=None,
            processing=None,
        )

    def _fail_charge(self, charge: Json, pi: Json, *, code: str, message: str) -> None:
        charge.update(
            status="failed",
            paid=False,
            captured=False,
            failure_code=code,
            failure_message=message,
            outcome={
                "advice_code": None,
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "declined_by_network",
                "reason": "generic_decline" if code == "card_declined" else code,
                "risk_level": "normal",
                "seller_message": "The bank did not return any further details with this decline.",
                "type": "issuer_declined",
            },
        )
        pi.update(
            status="requires_payment_method",
            amount_received=0,
            latest_charge=charge["id"],
            processing=None,
            last_payment_error={
                "charge": charge["id"],
                "code": code,
                "decline_code": "generic_decline" if code == "card_declined" else None,
                "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
                "message": message,
                "payment_method": {"id": pi["payment_method"], "object": "payment_method"},
                "type": "card_error",
            },
        )

    def _pay(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        metadata: dict[str, str],
        email: str | None,
        method_type: str = "card",
        outcome: str = "succeeded",  # succeeded, processing, failed
        description: str | None = None,
    ) -> tuple[Json, Json]:
        """Create and store a PaymentIntent and its charge; return both."""
        pi = self._payment_intent(
            amount=amount,
            currency=currency,
            customer=customer,
            metadata=metadata,
            method_type=method_type,
            description=description,
        )
        charge = self._charge(pi, email)
        pi["latest_charge"] = charge["id"]
        if outcome == "succeeded":
            self._succeed_charge(charge, pi)
        elif outcome == "processing":
            pi.update(status="processing", processing=None)
        else:
            self._fail_charge(charge, pi, code="card_declined", message="Your card was declined.")
        self._save(pi, charge)
        return pi, charge

    def _payment_events(self, pi: Json, charge: Json) -> list[Json]:
        kind = {
            "succeeded": ("payment_intent.succeeded", "charge.succeeded"),
            "processing": ("payment_intent.processing", "charge.pending"),
            "requires_payment_method": ("payment_intent.payment_failed", "charge.failed"),
        }[pi["status"]]
        return [self.event(kind[0], pi), self.event(kind[1], charge)]

    # --- finding things, for tests and the test-mode pages ----------------------

    def session_charge_id(self, session_id: str) -> str | None:
        """Return the id of the charge that paid a Checkout Session (None if unpaid)."""
        with self._lock:
            session = self._load("checkout.session", session_id)
            if session["payment_intent"]:
                return self._load("payment_intent", session["payment_intent"])["latest_charge"]
            if session["invoice"]:
                return self.invoice_charge_id(session["invoice"])
            return None

    def invoice_charge_id(self, invoice_id: str) -> str | None:
        """Return the id of the latest charge that tried to pay an invoice."""
        with self._lock:
            invoice = self._load("invoice", invoice_id)
            for payment in invoice["payments"]["data"]:
                pi_id = payment["payment"].get("payment_intent")
                if pi_id:
                    return self._load("payment_intent", pi_id)["latest_charge"]
            return None

    # --- scenarios: checkout -------------------------------------------------

    def _open_session(self, session_id: str) -> Json:
        session = self._load("checkout.session", session_id)
        if session["status"] != "open":
            raise _state_error(f"Checkout Session {session_id} is {session['status']}, not open.")
        return session

    def pay_checkout_session(
        self,
        session_id: str,
        *,
        async_payment: bool = False,
        email: str | None = None,
        name: str | None = None,
    ) -> list[Json]:
        """Have the donor pay the session; return the events Stripe would send.

        ``async_payment`` pays by bank debit (us_bank_account): the payment
        is processing until ``succeed_async_payment`` or ``fail_async_payment``.
        Subscriptions are always paid by card, at once.
        """
        with self._lock:
            session = self._open_session(session_id)
            email = email or session["customer_email"]
            if session["customer"]:
                customer = self._load("customer", session["customer"])
                email = email or customer["email"]
                customer_id = customer["id"]
            elif email or session["mode"] == "subscription":
                customer_id = self._customer(email, name)["id"]
            else:
                customer_id = None
            session.update(
                status="complete",
                url=None,
                customer=customer_id,
                customer_details={
                    "address": dict(_ADDRESS),
                    "business_name": None,
                    "email": email,
                    "individual_name": None,
                    "name": name,
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
            )
            if session["mode"] == "subscription":
                return self._start_subscription(session, email)
            pi, charge = self._pay(
                amount=session["amount_total"],
                currency=session["currency"],
                customer=customer_id,
                metadata=session["_local"]["payment_intent_metadata"],
                email=email,
                method_type="us_bank_account" if async_payment else "card",
                outcome="processing" if async_payment else "succeeded",
            )
            session.update(
                payment_intent=pi["id"],
                payment_status="unpaid" if async_payment else "paid",
            )
            self._save(session)
            return [
                self.event("checkout.session.completed", session),
                *self._payment_events(pi, charge),
            ]

    def _processing_session(self, session_id: str) -> tuple[Json, Json, Json]:
        session = self._load("checkout.session", session_id)
        pi = self._load("payment_intent", session["payment_intent"] or "")
        if session["status"] != "complete" or pi["status"] != "processing":
            raise _state_error(f"Checkout Session {session_id} has no payment processing.")
        charge = self._load("charge", pi["latest_charge"])
        return session, pi, charge

    def succeed_async_payment(self, session_id: str) -> list[Json]:
        """Let a processing bank debit succeed."""
        with self._lock:
            session, pi, charge = self._processing_session(session_id)
            self._succeed_charge(charge, pi)
            session["payment_status"] = "paid"
            self._save(pi, charge, session)
            return [
                self.event("checkout.session.async_payment_succeeded", session),
                *self._payment_events(pi, charge),
            ]

    def fail_async_payment(
        self,
        session_id: str,
        *,
        message: str = "The customer's bank account has insufficient funds to cover this payment.",
    ) -> list[Json]:
        """Let a processing bank debit fail."""
        with self._lock:
            session, pi, charge = self._processing_session(session_id)
            self._fail_charge(charge, pi, code="insufficient_funds", message=message)
            self._save(pi, charge, session)
            return [
                self.event("checkout.session.async_payment_failed", session),
                *self._payment_events(pi, charge),
            ]

    def expire_checkout_session(self, session_id: str) -> list[Json]:
        """Let an open session expire unpaid."""
        with self._lock:
            session = self._open_session(session_id)
            session.update(
                status="expired", url=None, expires_at=min(self.now(), session["expires_at"])
            )
            self._save(session)
            return [self.event("checkout.session.expired", session)]

    # --- scenarios: refunds and disputes ---------------------------------------

    def refund(
        self, charge_id: str, amount: int | None = None, *, reason: str | None = None
    ) -> list[Json]:
        """Refund ``amount`` (default: what remains) of a charge."""
        with self._lock:
            charge = self._load("charge", charge_id)
            if charge["status"] != "succeeded":
                raise _state_error(f"Charge {charge_id} has not succeeded.")
            if charge["disputed"]:
                raise LocalStripeError(
                    400,
                    "charge_disputed",
                    f"Charge {charge_id} has been charged back; you cannot issue a refund.",
                )
            remaining = charge["amount"] - charge["amount_refunded"]
            if remaining <= 0:
                raise LocalStripeError(
                    400,
                    "charge_already_refunded",
                    f"Charge {charge_id} has already been refunded.",
                )
            amount = remaining if amount is None else amount
            if amount <= 0 or amount > remaining:
                raise LocalStripeError(
                    400,
                    "amount_too_large",
                    f"Refund amount ({amount}) is greater than unrefunded amount on "
                    f"charge ({remaining}).",
                    param="amount",
                )
            refund_id = new_id("re_")
            bt = self._balance_transaction(
                amount=-amount,
                fee=0,
                currency=charge["currency"],
                source=refund_id,
                kind="refund",
                category="refund",
                description="REFUND FOR CHARGE",
            )
            refund = {
                "id": refund_id,
                "object": "refund",
                "amount": amount,
                "balance_transaction": bt["id"],
                "charge": charge_id,
                "created": self.now(),
                "currency": charge["currency"],
                "destination_details": {
                    "type": charge["payment_method_details"]["type"],
                    charge["payment_method_details"]["type"]: {},
                },
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": "succeeded",
                "transfer_reversal": None,
            }
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": False}
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            refunds = charge["refunds"]
            refunds["data"].insert(0, copy.deepcopy(refund))
            refunds["total_count"] = len(refunds["data"])
            self._save(refund, charge)
            return [
                self.event("charge.refunded", charge, previous_attributes=previous),
                self.event("refund.created", refund),
            ]

    def open_dispute(
        self,
        charge_id: str,
        amount: int | None = None,
        fee: int = 1500,
        *,
        reason: str = "fraudulent",
    ) -> list[Json]:
        """Have the cardholder dispute a charge: the amount and a fee are withdrawn."""
        with self._lock:
            charge = self._load("charge", charge_id)
            if charge["status"] != "succeeded":
                raise _state_error(f"Charge {charge_id} has not succeeded.")
            if charge["disputed"]:
                raise _state_error(f"Charge {charge_id} is already disputed.")
            remaining = charge["amount"] - charge["amount_refunded"]
            amount = remaining if amount is None else amount
            if amount <= 0 or amount > remaining:
                raise _state_error(f"Cannot dispute {amount} of charge {charge_id}.")
            dispute_id = new_id("dp_")
            now = self.now()
            bt = self._balance_transaction(
                amount=-amount,
                fee=fee,
                currency=charge["currency"],
                source=dispute_id,
                kind="adjustment",
                category="dispute",
                description=f"Chargeback withdrawal for {charge_id}",
                fee_description="Dispute fee",
            )
            dispute = {
                "id": dispute_id,
                "object": "dispute",
                "amount": amount,
                "balance_transactions": [bt],
                "charge": charge_id,
                "created": now,
                "currency": charge["currency"],
                "enhanced_eligibility_types": [],
                "evidence": dict.fromkeys(sorted(_EVIDENCE_FIELDS)),
                "evidence_details": {
                    "due_by": now + 7 * 86400,
                    "enhanced_eligibility": {},
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "payment_method_details": {
                    "card": {
                        "brand": "visa",
                        "case_type": "chargeback",
                        "network_reason_code": "10.4",
                    },
                    "type": "card",
                },
                "reason": reason,
                "status": "needs_response",
            }
            charge["disputed"] = True
            self._save(dispute, charge)
            return [
                self.event("charge.dispute.created", dispute),
                self.event("charge.dispute.funds_withdrawn", dispute),
            ]

    def close_dispute(self, dispute_id: str, *, won: bool) -> list[Json]:
        """Close a dispute: when won the amount comes back (Stripe keeps the fee)."""
        with self._lock:
            dispute = self._load("dispute", dispute_id)
            if dispute["status"] not in OPEN_DISPUTE_STATUSES:
                raise _state_error(f"Dispute {dispute_id} is already {dispute['status']}.")
            previous = {"status": dispute["status"]}
            dispute["status"] = "won" if won else "lost"
            dispute["is_charge_refundable"] = False
            if won:
                bt = self._balance_transaction(
                    amount=dispute["amount"],
                    fee=0,
                    currency=dispute["currency"],
                    source=dispute_id,
                    kind="adjustment",
                    category="dispute_reversal",
                    description=f"Chargeback reversal for {dispute['charge']}",
                )
                dispute["balance_transactions"].append(bt)
            self._save(dispute)
            events = [self.event("charge.dispute.closed", dispute, previous_attributes=previous)]
            if won:
                events.append(self.event("charge.dispute.funds_reinstated", dispute))
            return events

    # --- scenarios: subscriptions ---------------------------------------------

    def _start_subscription(self, session: Json, email: str | None) -> list[Json]:
        item = next(i for i in session["line_items"]["data"] if i["price"]["recurring"])
        price = item["price"]
        recurring = price["recurring"]
        now = self.now()
        sub_id = new_id("sub_")
        subscription = {
            "id": sub_id,
            "object": "subscription",
            "application": None,
            "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": now,
            "billing_cycle_anchor_config": None,
            "billing_mode": {"type": "classic"},
            "billing_thresholds": None,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "created": now,
            "currency": price["currency"],
            "customer": session["customer"],
            "days_until_due": None,
            "default_payment_method": new_id("pm_"),
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "ended_at": None,
            "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": _list(
                f"/v1/subscription_items?subscription={sub_id}",
                [
                    {
                        "id": new_id("si_", 7),
                        "object": "subscription_item",
                        "billing_thresholds": None,
                        "created": now,
                        "current_period_end": add_interval(
                            now, recurring["interval"], recurring["interval_count"], 1
                        ),
                        "current_period_start": now,
                        "discounts": [],
                        "metadata": {},
                        "price": copy.deepcopy(price),
                        "quantity": item["quantity"],
                        "subscription": sub_id,
                        "tax_rates": [],
                    }
                ],
            ),
            "latest_invoice": None,
            "livemode": False,
            "metadata": dict(session["_local"]["subscription_metadata"]),
            "next_pending_invoice_item_invoice": None,
            "on_behalf_of": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_setup_intent": None,
            "pending_update": None,
            "schedule": None,
            "start_date": now,
            "status": "active",
            "test_clock": None,
            "transfer_data": None,
            "trial_end": None,
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": None,
        }
        invoice, pi, charge = self._invoice(
            subscription,
            billing_reason="subscription_create",
            period=(now, now),
            email=email,
            outcome="succeeded",
        )
        subscription["latest_invoice"] = invoice["id"]
        session.update(subscription=sub_id, invoice=invoice["id"], payment_status="paid")
        self._save(subscription, session)
        return [
            self.event("checkout.session.completed", session),
            self.event("customer.subscription.created", subscription),
            self.event("invoice.paid", invoice),
            self.event("invoice.payment_succeeded", invoice),
            *self._payment_events(pi, charge),
        ]

    def _invoice(
        self,
        subscription: Json,
        *,
        billing_reason: str,
        period: tuple[int, int],
        email: str | None,
        outcome: str,
    ) -> tuple[Json, Json, Json]:
        """Create, finalize and try to pay the subscription's invoice for its current period."""
        now = self.now()
        item = subscription["items"]["data"][0]
        price = item["price"]
        amount = price["unit_amount"] * item["quantity"]
        customer = self._load("customer", subscription["customer"])
        email = email or customer["email"]
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        self._save(customer)
        invoice_id = new_id("in_")
        product = self.store.get(price["product"]) or {"name": "Subscription"}
        pi, charge = self._pay(
            amount=amount,
            currency=price["currency"],
            customer=customer["id"],
            metadata={},
            email=email,
            outcome=outcome,
            description=(
                "Subscription creation"
                if billing_reason == "subscription_create"
                else "Subscription update"
            ),
        )
        paid = pi["status"] == "succeeded"
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "Local Stripe",
            "account_tax_ids": None,
            "amount_due": amount,
            "amount_overpaid": 0,
            "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount,
            "amount_shipping": 0,
            "application": None,
            "attempt_count": 1,
            "attempted": True,
            "auto_advance": not paid,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "automatically_finalizes_at": None,
            "billing_reason": billing_reason,
            "collection_method": "charge_automatically",
            "confirmation_secret": None,
            "created": now,
            "currency": price["currency"],
            "custom_fields": None,
            "customer": customer["id"],
            "customer_address": None,
            "customer_email": email,
            "customer_name": customer["name"],
            "customer_phone": None,
            "customer_shipping": None,
            "customer_tax_exempt": "none",
            "customer_tax_ids": [],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "due_date": None,
            "effective_at": now,
            "ending_balance": 0,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": f"https://invoice.local/{invoice_id}",
            "invoice_pdf": f"https://invoice.local/{invoice_id}/pdf",
            "issuer": {"type": "self"},
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": _list(
                f"/v1/invoices/{invoice_id}/lines",
                [
                    {
                        "id": new_id("il_"),
                        "object": "line_item",
                        "amount": amount,
                        "currency": price["currency"],
                        "description": f"{item['quantity']} x {product['name']}",
                        "discount_amounts": [],
                        "discountable": True,
                        "discounts": [],
                        "invoice": invoice_id,
                        "livemode": False,
                        "metadata": dict(subscription["metadata"]),
                        "parent": {
                            "invoice_item_details": None,
                            "subscription_item_details": {
                                "invoice_item": None,
                                "proration": False,
                                "proration_details": {"credited_items": None},
                                "subscription": subscription["id"],
                                "subscription_item": item["id"],
                            },
                            "type": "subscription_item_details",
                        },
                        "period": {
                            "end": item["current_period_end"],
                            "start": item["current_period_start"],
                        },
                        "pretax_credit_amounts": [],
                        "pricing": {
                            "price_details": {
                                "price": price["id"],
                                "product": price["product"],
                            },
                            "type": "price_details",
                            "unit_amount_decimal": price["unit_amount_decimal"],
                        },
                        "quantity": item["quantity"],
                        "subscription": subscription["id"],
                        "taxes": [],
                    }
                ],
            ),
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None if paid else now + 3 * 86400,
            "number": number,
            "on_behalf_of": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(subscription["metadata"]),
                    "subscription": subscription["id"],
                },
                "type": "subscription_details",
            },
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            "payments": _list(
                f"/v1/invoice_payments?invoice={invoice_id}",
                [
                    {
                        "id": new_id("inpay_"),
                        "object": "invoice_payment",
                        "amount_paid": amount if paid else None,
                        "amount_requested": amount,
                        "created": now,
                        "currency": price["currency"],
                        "invoice": invoice_id,
                        "is_default": True,
                        "livemode": False,
                        "payment": {"payment_intent": pi["id"], "type": "payment_intent"},
                        "status": "paid" if paid else "open",
                        "status_transitions": {
                            "canceled_at": None,
                            "paid_at": now if paid else None,
                        },
                    }
                ],
            ),
            "period_end": period[1],
            "period_start": period[0],
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": None,
            "rendering": None,
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": 0,
            "statement_descriptor": None,
            "status": "paid" if paid else "open",
            "status_transitions": {
                "finalized_at": now,
                "marked_uncollectible_at": None,
                "paid_at": now if paid else None,
                "voided_at": None,
            },
            "subtotal": amount,
            "subtotal_excluding_tax": amount,
            "test_clock": None,
            "total": amount,
            "total_discount_amounts": [],
            "total_excluding_tax": amount,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": now,
        }
        self._save(invoice)
        return invoice, pi, charge

    def renew_subscription(self, subscription_id: str, *, fail: bool = False) -> list[Json]:
        """Start the subscription's next period and invoice it (paid, or declined if ``fail``)."""
        with self._lock:
            subscription = self._load("subscription", subscription_id)
            if subscription["status"] in ("canceled", "incomplete_expired"):
                raise _state_error(f"Subscription {subscription_id} is {subscription['status']}.")
            previous = {
                "items": copy.deepcopy(subscription["items"]),
                "latest_invoice": subscription["latest_invoice"],
                "status": subscription["status"],
            }
            item = subscription["items"]["data"][0]
            recurring = item["price"]["recurring"]
            old_start, old_end = item["current_period_start"], item["current_period_end"]
            anchor = subscription["billing_cycle_anchor"]
            cycles = 1
            while (
                add_interval(anchor, recurring["interval"], recurring["interval_count"], cycles)
                <= old_end
            ):
                cycles += 1
            item["current_period_start"] = old_end
            item["current_period_end"] = add_interval(
                anchor, recurring["interval"], recurring["interval_count"], cycles
            )
            invoice, pi, charge = self._invoice(
                subscription,
                billing_reason="subscription_cycle",
                period=(old_start, old_end),
                email=None,
                outcome="failed" if fail else "succeeded",
            )
            subscription["latest_invoice"] = invoice["id"]
            subscription["status"] = "past_due" if fail else "active"
            if previous["status"] == subscription["status"]:
                del previous["status"]
            self._save(subscription)
            updated = self.event(
                "customer.subscription.updated", subscription, previous_attributes=previous
            )
            if fail:
                return [
                    self.event("invoice.payment_failed", invoice),
                    updated,
                    *self._payment_events(pi, charge),
                ]
            return [
                self.event("invoice.paid", invoice),
                self.event("invoice.payment_succeeded", invoice),
                updated,
                *self._payment_events(pi, charge),
            ]

    def retry_invoice(self, invoice_id: str, *, fail: bool = False) -> list[Json]:
        """Try again to collect an open invoice (paid, or declined again if ``fail``)."""
        with self._lock:
            invoice = self._load("invoice", invoice_id)
            if invoice["status"] != "open":
                raise _state_error(f"Invoice {invoice_id} is {invoice['status']}, not open.")
            payment = invoice["payments"]["data"][0]
            pi = self._load("payment_intent", payment["payment"]["payment_intent"])
            charge = self._charge(pi, invoice["customer_email"])
            now = self.now()
            invoice["attempt_count"] += 1
            if fail:
                self._fail_charge(
                    charge, pi, code="card_declined", message="Your card was declined."
                )
                invoice["next_payment_attempt"] = now + 3 * 86400
                self._save(pi, charge, invoice)
                return [
                    self.event("invoice.payment_failed", invoice),
                    *self._payment_events(pi, charge),
                ]
            self._succeed_charge(charge, pi)
            invoice.update(
                status="paid",
                amount_paid=invoice["amount_due"],
                amount_remaining=0,
                auto_advance=False,
                next_payment_attempt=None,
            )
            invoice["status_transitions"]["paid_at"] = now
            payment.update(status="paid", amount_paid=invoice["amount_due"])
            payment["status_transitions"]["paid_at"] = now
            self._save(pi, charge, invoice)
            events = [
                self.event("invoice.paid", invoice),
                self.event("invoice.payment_succeeded", invoice),
            ]
            sub_id = invoice["parent"]["subscription_details"]["subscription"]
            subscription = self._load("subscription", sub_id)
            if subscription["status"] in ("past_due", "unpaid", "incomplete") and (
                subscription["latest_invoice"] == invoice_id
            ):
                previous = {"status": subscription["status"]}
                subscription["status"] = "active"
                self._save(subscription)
                events.append(
                    self.event(
                        "customer.subscription.updated",
                        subscription,
                        previous_attributes=previous,
                    )
                )
            return [*events, *self._payment_events(pi, charge)]

    def cancel_subscription(self, subscription_id: str) -> list[Json]:
        """Cancel a subscription now."""
        with self._lock:
            subscription = self._load("subscription", subscription_id)
            if subscription["status"] == "canceled":
                raise _state_error(f"Subscription {subscription_id} is already canceled.")
            now = self.now()
            subscription.update(status="canceled", canceled_at=now, ended_at=now)
            subscription["cancellation_details"]["reason"] = "cancellation_requested"
            self._save(subscription)
            return [self.event("customer.subscription.deleted", subscription)]
