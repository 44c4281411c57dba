"""The year-end batch runner: issue a run's statements in batches, render their PDFs in a
pool of processes, queue their emails; stoppable and resumable (``flask receipts year-end``).
The queue runs the same steps a batch per job: ``jobs/year_end_queue.py``.

The work is a pipeline of batches. The main process issues the statements of a
batch in one transaction (numbers are taken in order, under the receipts lock)
and commits; the PDFs of that batch are then rendered in a pool of processes
from each receipt's JSON snapshot, while the main process issues the next
batch; when a batch's PDFs are back, their emails are queued (with the PDF
attached) in a transaction of their own. At most two batches of PDFs are held
at once, so memory does not grow with the number of donors.

A run can be stopped (Ctrl-C, SIGTERM, the machine going down) at any point
and run again: donors who already have a valid statement for the period are
skipped, and statements this run issued whose email was not yet queued get
their email first. So a rerun never issues a second number or sends a second
email to anyone.

This is a job, not a request service: it commits as it goes.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from donations.extensions import db
from donations.models import Donor, Receipt, User, YearEndRun, YearEndStatus, utcnow
from donations.pdf.content import Branding, ReceiptContent
from donations.pdf.documents import render_receipt
from donations.services import receipts
from donations.services.audit import record_audit
from donations.services.errors import DomainError, InvalidInput, NotAllowed
from donations.services.receipt_delivery import send_receipt
from donations.services.year_end import (
    BATCH_SIZE,
    count_done,
    count_donors,
    get_run,
    next_donors,
    run_label,
    start_month,
    statement_contents,
    undelivered_statements,
)

log = logging.getLogger(__name__)

MAX_WORKERS = 32
PROBLEMS_KEPT = 50


@dataclass(frozen=True)
class Progress:
    """What the run has done so far, passed to the ``progress`` callback."""

    donors_total: int
    donors_done: int
    statements_issued: int
    emails_queued: int
    for_post: int


@dataclass
class YearEndResult:
    """What one call of ``run_year_end`` did (the run row keeps the totals of every call)."""

    run_id: int
    tax_year: int
    status: YearEndStatus = YearEndStatus.RUNNING
    issued: int = 0
    emailed: int = 0
    for_post: int = 0
    skipped: int = 0  # already had a statement for the year before this call
    nothing_to_state: int = 0  # gifts all refunded or reversed
    problems: list[str] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        return self.status == YearEndStatus.STOPPED


# --- rendering (in worker processes) -----------------------------------------------

_worker_logo: bytes | None = None


def _init_worker(logo: bytes | None) -> None:
    """Set up a rendering process: Ctrl-C is the main process's to handle."""
    global _worker_logo
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _worker_logo = logo


def _render(content_json: str) -> bytes:
    """Render one receipt snapshot as PDF bytes (runs in a worker process)."""
    return render_receipt(
        ReceiptContent.from_json(content_json), void=None, branding=Branding(logo=_worker_logo)
    )


class InlineExecutor:
    """``workers=1``: render in this process, when asked."""

    def __init__(self, logo: bytes | None) -> None:
        self.logo = logo

    def submit(self, fn: Callable[[str], bytes], arg: str) -> Future[bytes]:
        global _worker_logo
        future: Future[bytes] = Future()
        _worker_logo = self.logo
        try:
            future.set_result(fn(arg))
        except Exception as error:  # handed to whoever reads the result
            future.set_exception(error)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


def _executor(workers: int, logo: bytes | None):
    if workers <= 1:
        return InlineExecutor(logo)
    return ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(logo,))


# --- email -------------------------------------------------------------------------


def _send(receipt: Receipt, pdf: bytes, actor: User | None) -> bool:
    """Queue the email of one statement with its rendered PDF; False when it goes by post."""
    send_receipt(receipt, actor=actor, pdf=pdf)
    return receipt.delivery != "post"


# --- the run ------------------------------------------------------------------------


class _StopFlag:
    """Set by SIGTERM or a first Ctrl-C: stop after the current donor."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(signum)
            if signum == signal.SIGINT and previous is not signal.default_int_handler:
                continue
            self._previous[signum] = previous
            signal.signal(signum, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        self.requested = True

    def restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


@dataclass
class RenderBatch:
    """Statements whose PDFs are being rendered, in issue order."""

    renders: list[tuple[int, Future[bytes]]]


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _progress_of(run: YearEndRun) -> Progress:
    return Progress(
        donors_total=run.donors_total,
        donors_done=run.donors_done,
        statements_issued=run.statements_issued,
        emails_queued=run.emails_queued,
        for_post=run.for_post,
    )


def _note_problem(run: YearEndRun, result: YearEndResult, text: str) -> None:
    result.problems.append(text)
    if len(result.problems) <= PROBLEMS_KEPT:
        run.last_error = "\n".join(result.problems[:PROBLEMS_KEPT])
    log.warning("year-end %s: %s", run.tax_year, text)


def submit_renders(executor, receipt_ids: list[int]) -> RenderBatch:
    contents = statement_contents(receipt_ids)
    return RenderBatch([(rid, executor.submit(_render, contents[rid])) for rid in receipt_ids])


def deliver_rendered(batch: RenderBatch, run: YearEndRun, result: YearEndResult) -> None:
    """Queue the emails of a rendered batch (the caller commits)."""
    for receipt_id, future in batch.renders:
        pdf = future.result()
        receipt = db.session.get(Receipt, receipt_id)
        if receipt.is_void:  # voided by a treasurer while it was being rendered
            continue
        if _send(receipt, pdf, run.started_by):
            run.emails_queued += 1
            result.emailed += 1
        else:
            run.for_post += 1
            result.for_post += 1
    batch.renders.clear()


def _checkpoint(run: YearEndRun, progress: Callable | None) -> None:
    """Commit what was done so far, with a sign of life, and report progress."""
    run.heartbeat_at = utcnow()
    db.session.commit()
    if progress is not None:
        progress(_progress_of(run))


def issue_donors(
    run: YearEndRun,
    donor_ids: list[int],
    result: YearEndResult,
    progress: Callable | None,
    stop: _StopFlag | None,
) -> tuple[list[int], bool]:
    """Issue the statements of a batch of donors (the caller commits); return those to email."""
    to_email: list[int] = []
    for donor_id in donor_ids:
        if stop is not None and stop.requested:
            break
        donor = db.session.get(Donor, donor_id)
        try:
            receipt = receipts.issue_statement(
                actor=run.started_by, donor=donor, tax_year=run.tax_year, basis=run.basis, run=run
            )
        except InvalidInput:  # every gift refunded or reversed: nothing to state
            result.nothing_to_state += 1
        except DomainError as error:
            _note_problem(run, result, f"{donor.name} (donor #{donor.id}): {error.message}")
        else:
            run.statements_issued += 1
            result.issued += 1
            if receipt.delivery == "post":
                run.for_post += 1
                result.for_post += 1
            else:
                to_email.append(receipt.id)
        run.donors_done += 1
        run.after_donor_id = donor_id
        if progress is not None:
            progress(_progress_of(run))
    return to_email, stop is not None and stop.requested


def run_year_end(
    run_id: int,
    *,
    workers: int = 2,
    progress: Callable[[Progress], object] | None = None,
    batch_size: int = BATCH_SIZE,
) -> YearEndResult:
    """Issue and email the statements of a started run; commits as it goes.

    ``workers`` processes render the PDFs (1: render here). ``progress`` is called
    with a ``Progress`` after every donor and every batch of emails. Stops after
    the current donor on SIGTERM or Ctrl-C, marking the run stopped; running it
    again (``start_run`` then this) carries on where it stopped.
    """
    workers = max(1, min(int(workers), MAX_WORKERS))
    run = get_run(run_id)
    result = YearEndResult(run_id=run.id, tax_year=run.tax_year)
    if run.status != YearEndStatus.RUNNING:
        raise NotAllowed(f"Run #{run.id} is {run.status}; start it again to carry on.")
    start_month()  # no statements without the organisation profile
    start, end = run.period_start, run.period_end
    label = run_label(run)
    run.donors_total = count_donors(start, end)
    run.donors_done = count_done(start, end)
    result.skipped = run.donors_done
    run.heartbeat_at = utcnow()
    logo = receipts.get_receipt_settings().logo
    db.session.commit()

    stop = _StopFlag()
    stop.install()
    executor = _executor(workers, logo)
    in_flight: RenderBatch | None = None
    try:
        if progress is not None:
            progress(_progress_of(run))
        # First the emails an interruption left unqueued, then the donors still to do.
        for ids in _chunks(undelivered_statements(run.id), batch_size):
            batch = submit_renders(executor, ids)
            if in_flight is not None:
                deliver_rendered(in_flight, run, result)
                _checkpoint(run, progress)
            in_flight = batch
        after_id = 0
        stopped = False
        while not stopped:
            donor_ids = next_donors(start, end, after_id, batch_size)
            if not donor_ids:
                break
            after_id = donor_ids[-1]
            to_email, stopped = issue_donors(run, donor_ids, result, progress, stop)
            run.heartbeat_at = utcnow()
            db.session.commit()
            batch = submit_renders(executor, to_email)
            if in_flight is not None:
                deliver_rendered(in_flight, run, result)
                _checkpoint(run, progress)
            in_flight = batch
        if in_flight is not None:
            deliver_rendered(in_flight, run, result)
            _checkpoint(run, progress)
            in_flight = None
        stopped = stopped or stop.requested
        run.status = YearEndStatus.STOPPED if stopped else YearEndStatus.DONE
        run.finished_at = utcnow()
        run.heartbeat_at = run.finished_at
        db.session.commit()
        result.status = run.status
        record_audit(
            actor=run.started_by,
            action="year_end.stopped" if stopped else "year_end.done",
            object_type="year_end_run",
            object_id=run.id,
            summary=f"{label}: {result.issued:,} statements issued, "
            f"{result.emailed:,} emails queued, {result.for_post:,} for post",
        )
        db.session.commit()
    except KeyboardInterrupt:
        finish_badly(run_id, result, YearEndStatus.STOPPED, "")
        executor.shutdown(wait=True, cancel_futures=True)
    except BaseException as error:
        finish_badly(run_id, result, YearEndStatus.FAILED, f"{type(error).__name__}: {error}")
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        stop.restore()
        executor.shutdown(wait=True)
    return result


def finish_badly(run_id: int, result: YearEndResult, status: YearEndStatus, error: str) -> None:
    """Mark a run stopped or failed after its open transaction was rolled back."""
    db.session.rollback()
    try:
        run = db.session.get(YearEndRun, run_id, populate_existing=True)
        run.status = status
        run.finished_at = utcnow()
        run.heartbeat_at = run.finished_at
        if error:
            run.last_error = (error + ("\n" + run.last_error if run.last_error else ""))[:4000]
        db.session.commit()
    except Exception:  # the database itself may be what failed
        db.session.rollback()
        log.exception("year-end run %s: could not record that it %s", run_id, status.value)
    result.status = status
