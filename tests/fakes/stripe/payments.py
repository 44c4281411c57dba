"""Scenarios on one-time payments: paying, bank debits (async), expiry, refunds, disputes."""

from __future__ import annotations

import copy

from fakes.stripe.core import StripeCore
from fakes.stripe.objects import (
    _ADDRESS,
    _EVIDENCE_FIELDS,
    OPEN_DISPUTE_STATUSES,
    Json,
    LocalStripeError,
    _state_error,
    new_id,
)


class PaymentScenarios(StripeCore):
    """A donor pays (by card or bank debit), a session expires, a refund, a dispute."""

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
