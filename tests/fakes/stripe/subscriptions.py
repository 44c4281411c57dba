"""Scenarios on subscriptions: start, renewals, declines and retries, cancellation."""

from __future__ import annotations

import copy

from fakes.stripe.core import StripeCore
from fakes.stripe.objects import Json, _list, _state_error, add_interval, new_id


class SubscriptionScenarios(StripeCore):
    """A monthly gift starts, renews (paid or declined), is retried and is cancelled."""

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
