"""The mail worker: drive ``services.mail.deliver_due`` until the outbox is empty, or forever."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask

from donations.services.mail import DeliveryReport, deliver_due


def drain(app: Flask, *, limit: int = 200) -> int:
    """Send everything that is due now, ``limit`` messages at a time; return how many went."""
    sent = 0
    while (report := deliver_due(app=app, limit=limit)).handled:
        sent += report.sent
    return sent


def work(
    app: Flask,
    *,
    once: bool,
    interval: float,
    report_to: Callable[[DeliveryReport], object],
) -> None:
    """Send queued mail and retry failures, polling every ``interval`` seconds while idle.

    ``report_to`` is told of every round that handled something (and of the one round
    when ``once``). Several workers may run at once: each claims its own messages.
    """
    while True:
        report = deliver_due(app=app)
        if report.handled or once:
            report_to(report)
        if once:
            return
        if not report.handled:
            time.sleep(interval)
