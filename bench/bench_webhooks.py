"""Webhook ingest: signed Stripe events, each sent several times in shuffled order.

Run by hand: ``make bench`` (or ``.venv/bin/python bench/bench_webhooks.py``).
The app runs under gunicorn in test mode on SQLite (or on the database ``DATABASE_URL``
names, e.g. PostgreSQL: it is emptied first), so "Stripe" is the local
test-mode store in the same database, with two job consumers (``flask jobs work``)
beside it, started and idle before anything is measured (as in production, where they
run before Stripe's deliveries come). The script makes checkouts, monthly instalments
and refunds, sends every event 3 times from 4 concurrent senders, and prints the
acknowledged deliveries per second beside the baseline of the same senders on /healthz
(the same server, beside the same idle consumers), then how many unique
events per second were processed end to end (from the first delivery until the
last event is processed), and checks that gross, fee and net equal the expected
totals exactly.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import threading
import time

from _common import RECONNECT_EVERY, consumers, gunicorn, instance, measure_get
from sqlalchemy import create_engine, text

from donations import create_app
from donations.extensions import db
from donations.integrations.local_gateway import sign_payload
from donations.models import Fund, Gift
from donations.services import giving, payments


def make_events(target: int, seed: int) -> tuple[list[dict], dict[str, int]]:
    """Create checkouts, instalments and refunds in the local store; return their events."""
    rng = random.Random(seed)
    events: list[dict] = []
    funds = db.session.scalars(db.select(Fund)).all()
    gateway = payments.get_gateway()
    local = gateway.local  # type: ignore[attr-defined]
    subscriptions: list[str] = []
    n = 0
    while len(events) < target:
        n += 1
        monthly = rng.random() < 0.25
        donation = giving.Donation(
            amount_cents=rng.choice([1000, 2500, 5000, 7500, 10000, 25000]) + rng.randint(0, 99),
            currency="USD",
            frequency=giving.Frequency.MONTHLY if monthly else giving.Frequency.ONE_TIME,
            fund_id=rng.choice(funds).id,
            cover_fee=rng.random() < 0.4,
            name=f"Bench Donor {n}",
            email=f"donor{n % 700}@example.com",
        )
        gift = giving.prepare_checkout(donation=donation, attempt_id=f"bench-{seed}-{n}")
        session = giving.open_checkout_session(
            gift=gift, gateway=gateway, success_url="http://x/s", cancel_url="http://x/c"
        )
        events += local.pay_checkout_session(session.id)
        if monthly:
            subscriptions.append(local.store.get(session.id)["subscription"])
        elif rng.random() < 0.15:
            pi_id = local.store.get(session.id)["payment_intent"]
            charge_id = local.store.get(pi_id)["latest_charge"]
            amount = local.store.get(charge_id)["amount"]
            events += local.refund(charge_id, rng.choice([amount // 2, None]))
        if subscriptions and rng.random() < 0.3:
            events += local.renew_subscription(rng.choice(subscriptions))
        if n % 200 == 0:
            db.session.commit()
    db.session.commit()
    return events, expected_totals()


def send_all(port: int, deliveries: list[dict], secret: str, senders: int) -> tuple[float, int]:
    # Signed before the clock starts, as Stripe has them ready: the senders' own cost per
    # request is then that of the baseline's senders (http.client on a kept-alive connection).
    signed = []
    for event in deliveries:
        payload = json.dumps(event)
        signed.append((payload, sign_payload(payload, secret)))
    chunks = [signed[i::senders] for i in range(senders)]
    failures = [0] * senders

    def sender(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for n, (payload, signature) in enumerate(chunks[i], 1):
            if n % RECONNECT_EVERY == 0:  # as the baseline's senders do (_common.py)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request(
                "POST",
                "/stripe/webhook",
                body=payload,
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures[i] += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started, sum(failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--consumers", type=int, default=2, help="job consumers (0: acknowledgements only)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker threads per consumer")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for processing")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL")
    if url:
        empty_database(url)
    with instance(**({"DATABASE_URL": url} if url else {})) as (env, _db_path):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                "SECRET_KEY": env["SECRET_KEY"],
                "MAIL_SEND_AFTER_COMMIT": False,
                "JOBS_SQLITE_PATH": env["JOBS_SQLITE_PATH"],
            }
        )
        with app.app_context():
            giving.ensure_default_funds()
            db.session.commit()
            t0 = time.monotonic()
            events, expected = make_events(args.events, args.seed)
            secret = payments.webhook_secret()
            print(f"made {len(events):,} events in {time.monotonic() - t0:.1f} s")
        deliveries = events * args.repeat
        random.Random(args.seed).shuffle(deliveries)

        env = {**env, "MAIL_SEND_AFTER_COMMIT": "false"}
        with gunicorn("wsgi:app", env, workers=2, threads=4) as port:
            with app.app_context():
                before = stored_events()  # the demo's
            with consumers(env, count=args.consumers, workers=args.workers) as running:
                with app.app_context():
                    wait_consumers_up([process.pid for process in running], timeout=120)
                # Warm up first: gunicorn's port opens before its workers have loaded the
                # app. The baseline runs beside the same consumers, idle.
                measure_get(port, "/healthz", seconds=2, concurrency=args.senders)
                base_rate, _ = measure_get(
                    port,
                    "/healthz",
                    seconds=10,
                    concurrency=args.senders,
                    reconnect_every=RECONNECT_EVERY,
                )
                started, busy_at_start = time.monotonic(), machine_busy()
                elapsed, failures = send_all(port, deliveries, secret, args.senders)
                busy_in_deliveries = machine_busy() - busy_at_start
                if args.consumers:
                    with app.app_context():
                        done_during_acks = processed_so_far() - before
                        processed = wait_processed(before + len(events), timeout=args.timeout)
                        processed -= before
                end_to_end = time.monotonic() - started
                busy_after = machine_busy() - busy_at_start - busy_in_deliveries

        with app.app_context():
            paid = db.select(
                db.func.sum(Gift.amount_cents),
                db.func.sum(Gift.fee_cents),
                db.func.sum(Gift.refunded_cents),
                db.func.count(Gift.id),
            ).where(Gift.status == "paid", Gift.source == "online")  # not the demo's cheques
            gross, fee, refunded, count = db.session.execute(paid).one()
            from donations.models import StripeEvent

            bad = db.session.scalar(
                db.select(db.func.count(StripeEvent.id)).where(
                    StripeEvent.status.in_(["failed", "parked"])
                )
            )
            stored = db.session.scalar(db.select(db.func.count(StripeEvent.id)))
            again = db.session.scalar(  # parked (out of order), then processed again
                db.select(db.func.count(StripeEvent.id)).where(StripeEvent.attempts > 1)
            )

    rate = len(deliveries) / elapsed
    print(
        f"deliveries: {len(deliveries):,} ({len(events):,} events x {args.repeat}), "
        f"{args.senders} senders, gunicorn 2 workers x 4 threads, "
        f"{args.consumers} consumers x {args.workers}, "
        f"{'PostgreSQL' if url and url.startswith('postgres') else 'SQLite'}"
    )
    print(f"webhook acknowledged : {rate:8.1f} deliveries/s")
    print(f"baseline GET /healthz: {base_rate:8.1f} req/s  -> ratio {rate / base_rate:.2f}")
    print(f"target ratio >= 0.5: {'met' if rate >= 0.5 * base_rate else 'NOT met'}")
    if not args.consumers:
        print(f"non-200 answers: {failures}; nothing processed (--consumers 0)")
        return
    processed_rate = len(events) / end_to_end
    print(
        f"processed end to end: {processed_rate:8.1f} unique events/s "
        f"({processed:,} events in {end_to_end:.1f} s); "
        f"target >= 150: {'met' if processed_rate >= 150 else 'NOT met'}"
    )
    after_acks = end_to_end - elapsed
    print(
        f"  of which {done_during_acks:,} while deliveries came in ({elapsed:.1f} s), the "
        f"rest at {(len(events) - done_during_acks) / after_acks:.1f} events/s after them"
    )
    if busy_at_start:
        print(
            f"  the machine's {os.cpu_count()} cores (every process: server, consumers, "
            f"senders, database): {busy_in_deliveries / elapsed:.2f} busy during the "
            f"deliveries, {busy_after / after_acks:.2f} after them"
        )
    print(
        f"non-200 answers: {failures}; stored events: {stored:,}; failed or parked: {bad}; "
        f"processed more than once (parked, then released): {again:,}"
    )
    net = gross - fee - refunded
    exp_net = expected["gross"] - expected["fee"] - expected["refunded"]
    print(f"paid gifts: {count:,}")
    print(f"gross    {gross:>12,} (expected {expected['gross']:,})")
    print(f"fee      {fee:>12,} (expected {expected['fee']:,})")
    print(f"refunded {refunded:>12,} (expected {expected['refunded']:,})")
    print(f"net      {net:>12,} (expected {exp_net:,})")
    ok = (gross, fee, refunded) == (expected["gross"], expected["fee"], expected["refunded"])
    print("totals: EXACT" if ok and not failures and not bad else "totals: MISMATCH")
    if not ok or failures or bad:
        raise SystemExit(1)


def empty_database(url: str) -> None:
    """Drop every table of the database ``url`` names (the bench migrates it afresh)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            raise SystemExit("DATABASE_URL: only PostgreSQL is emptied here; SQLite is the default")
    engine.dispose()


def stored_events() -> int:
    from donations.models import StripeEvent

    db.session.rollback()
    return db.session.scalar(db.select(db.func.count(StripeEvent.id)))


def processed_so_far() -> int:
    """How many stored events have left "received" (the demo's included)."""
    from donations.models import StripeEvent, StripeEventStatus

    db.session.rollback()
    return db.session.scalar(
        db.select(db.func.count(StripeEvent.id)).where(
            StripeEvent.status != StripeEventStatus.RECEIVED
        )
    )


def wait_consumers_up(pids: list[int], *, timeout: float) -> None:
    """Wait until every consumer has started (its first heartbeat is stored) and is idle: in
    production the consumers are running before Stripe's deliveries come, so their start-up
    (loading the app, a second or two of CPU each) is counted neither in the baseline's nor
    the acknowledgements' time, nor in the processing's."""
    from donations.models import QueueConsumer

    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        seen = db.session.scalars(
            db.select(QueueConsumer.pid).where(QueueConsumer.pid.in_(pids))
        ).all()
        if len(set(seen)) >= len(pids):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(set(seen))} of {len(pids)} consumers started")
        time.sleep(0.1)
    # Then until they are idle: after its first heartbeat a consumer still starts its
    # queue's workers and runs the schedule's jobs due at start.
    while time.monotonic() < deadline:
        used = cpu_seconds(pids)
        time.sleep(0.5)
        if cpu_seconds(pids) - used < 0.02 * len(pids):
            return


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time the processes ``pids`` have used so far (Linux; 0 elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_busy() -> float:
    """The CPU seconds the whole machine has spent running code since it started: every
    process, the database server's too (Linux; 0 elsewhere). Idle, waiting on a disk and
    time a hypervisor gave to other machines ("steal") are not counted."""
    try:
        with open("/proc/stat") as stat:
            user, nice, system, _idle, _iowait, irq, softirq = map(
                int, stat.readline().split()[1:8]
            )
    except (OSError, ValueError):
        return 0.0
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def wait_processed(count: int, *, timeout: float) -> int:
    """Wait until every stored event has left "received"; return how many are stored."""
    from donations.models import StripeEvent, StripeEventStatus

    deadline = time.monotonic() + timeout
    while True:
        stored = stored_events()
        waiting = db.session.scalar(
            db.select(db.func.count(StripeEvent.id)).where(
                StripeEvent.status == StripeEventStatus.RECEIVED
            )
        )
        if stored >= count and not waiting:
            return stored
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {waiting:,} of {stored:,} events still waiting")
        time.sleep(0.2)


def expected_totals() -> dict[str, int]:
    """Sum what the local Stripe charged, kept in fees and refunded: the truth to match."""
    from donations.models import StripeTestObject

    charges, bts = [], {}
    for row in db.session.scalars(db.select(StripeTestObject)):
        obj = json.loads(row.data)
        if obj.get("object") == "charge":
            charges.append(obj)
        elif obj.get("object") == "balance_transaction":
            bts[obj["id"]] = obj
    expected = {"gross": 0, "fee": 0, "refunded": 0}
    for charge in charges:
        if charge.get("status") == "succeeded":
            expected["gross"] += charge["amount"]
            expected["refunded"] += charge["amount_refunded"]
            expected["fee"] += bts[charge["balance_transaction"]]["fee"]
    return expected


if __name__ == "__main__":
    main()
