"""The simulator's checkout and portal API: sessions created and validated as Stripe does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes.stripe.core import StripeCore
from fakes.stripe.objects import (
    _CHECKOUT_PARAMS,
    _LINE_ITEM_PARAMS,
    _PAYMENT_INTENT_DATA_PARAMS,
    _PORTAL_PARAMS,
    _PRICE_DATA_PARAMS,
    _PRODUCT_DATA_PARAMS,
    _RECURRING_PARAMS,
    _SUBSCRIPTION_DATA_PARAMS,
    MINIMUM_AMOUNT,
    ZERO_DECIMAL,
    Json,
    LocalStripeError,
    _check_known,
    _check_not_empty,
    _currency,
    _integer,
    _list,
    _metadata,
    _require,
    new_id,
)


class CheckoutApi(StripeCore):
    """POST /v1/checkout/sessions and /v1/billing_portal/sessions, with Stripe's refusals."""

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
