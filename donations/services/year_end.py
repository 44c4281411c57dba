"""Year-end statements: one statement per donor who gave in a tax year, emailed with its PDF.

A run is a ``YearEndRun`` row that follows the work: how many donors there are,
how many are done, statements issued, emails queued, statements for the post.
The work is a pipeline of batches. The main process issues the statements of a
batch in one transaction (numbers are taken in order, under the receipts lock)
and commits; the PDFs of that batch are then rendered in a pool of processes
from each receipt's JSON snapshot, while the main process issues the next
batch; when a batch's PDFs are back, their emails are queued (with the PDF
attached) in a transaction of their own. At most two batches of PDFs are held
at once, so memory does not grow with the number of donors.

A run covers one period: a tax year on a basis, the calendar year (January to
December) or the organisation's fiscal year (named by the calendar year it ends
in). The period is fixed when the run is made and kept on the run and on each
statement, so a calendar-2026 and a fiscal-2026 statement are two documents,
while the same period run again never makes a second one.

A run can be stopped (Ctrl-C, SIGTERM, the machine going down) at any point
and run again: donors who already have a valid statement for the period are
skipped, and statements this run issued whose email was not yet queued get
their email first. So a rerun never issues a second number or sends a second
email to anyone.
"""

from __future__ import annotations

import io
import logging
import signal
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, extract, func, select, union

from donations.extensions import db
from donations.models import (
    MAX_ROW_ID,
    Donor,
    Gift,
    GiftStatus,
    InKindGift,
    Organization,
    Receipt,
    ReceiptKind,
    ReceiptStatus,
    StatementBasis,
    StockDocument,
    User,
    YearEndRun,
    YearEndStatus,
    utcnow,
)
from donations.pdf.content import Branding, ReceiptContent
from donations.pdf.render import render_receipt
from donations.services import receipts
from donations.services.audit import record_audit
from donations.services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from donations.services.locking import serialize_writes
from donations.services.periods import day_after, fiscal_year_of, start_of_day
from donations.services.receipt_delivery import send_receipt
from donations.services.receipt_files import receipt_filename, receipt_pdf

log = logging.getLogger(__name__)

LOCK_NAME = "year_end"
BATCH_SIZE = 50
# A run whose heartbeat is older than this is taken to have died: it may be continued.
STALE_AFTER = timedelta(minutes=2)
FIRST_TAX_YEAR = 2000
LAST_TAX_YEAR = 2100
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
    status: str = YearEndStatus.RUNNING.value
    issued: int = 0
    emailed: int = 0
    for_post: int = 0
    skipped: int = 0  # already had a statement for the year before this call
    nothing_to_state: int = 0  # gifts all refunded or reversed
    problems: list[str] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        return self.status == YearEndStatus.STOPPED


# --- the tax year and its donors --------------------------------------------------


def _start_month() -> int:
    org = db.session.get(Organization, 1)
    if org is None or not org.legal_name:
        raise NotAllowed(
            "Fill in the organisation's legal name, EIN and address (Admin, Organisation) "
            "before sending year-end statements."
        )
    return org.fiscal_year_start_month


def _donor_ids_with_gifts(start: date, end: date) -> Select:
    """Donors with a paid gift of money or an in-kind gift in a period (a subquery)."""
    money = select(Gift.donor_id.label("donor_id")).where(
        Gift.donor_id.is_not(None),
        Gift.status == GiftStatus.PAID.value,
        Gift.is_reversal.is_(False),
        Gift.received_at >= start_of_day(start),
        Gift.received_at < start_of_day(day_after(end)),
    )
    goods = select(InKindGift.donor_id.label("donor_id")).where(
        InKindGift.donor_id.is_not(None),
        InKindGift.received_on >= start,
        InKindGift.received_on <= end,
    )
    return union(money, goods).subquery()


def _with_statement(start: date, end: date) -> Select:
    """Donors who have a valid statement of exactly this period (a subquery)."""
    return select(Receipt.donor_id).where(
        Receipt.period_start == start,
        Receipt.period_end == end,
        Receipt.kind == ReceiptKind.STATEMENT.value,
        Receipt.status == ReceiptStatus.VALID.value,
    )


def count_donors(start: date, end: date) -> int:
    """How many donors gave money or goods in a period."""
    ids = _donor_ids_with_gifts(start, end)
    return db.session.scalar(select(func.count()).select_from(ids)) or 0


def _count_done(start: date, end: date) -> int:
    ids = _donor_ids_with_gifts(start, end)
    return (
        db.session.scalar(
            select(func.count())
            .select_from(ids)
            .where(ids.c.donor_id.in_(_with_statement(start, end)))
        )
        or 0
    )


def _next_donors(start: date, end: date, after_id: int, limit: int) -> list[int]:
    """The next donors, by id, who gave in the period and have no statement of it yet."""
    ids = _donor_ids_with_gifts(start, end)
    return list(
        db.session.scalars(
            select(ids.c.donor_id)
            .where(ids.c.donor_id > after_id, ids.c.donor_id.not_in(_with_statement(start, end)))
            .order_by(ids.c.donor_id)
            .limit(limit)
        )
    )


def years_with_gifts(basis: StatementBasis | None = None) -> list[int]:
    """The tax years in which money or goods were received, newest first.

    On a basis, the years named as that basis names them; with none, the years of
    either basis (the screen offers one list of years beside the basis).
    """
    start_month = _start_month_or_default()
    gift_months = select(
        extract("year", Gift.received_at).label("y"), extract("month", Gift.received_at).label("m")
    ).where(Gift.status == GiftStatus.PAID.value, Gift.is_reversal.is_(False))
    goods_months = select(
        extract("year", InKindGift.received_on).label("y"),
        extract("month", InKindGift.received_on).label("m"),
    ).where(InKindGift.donor_id.is_not(None))
    months = [(int(y), int(m)) for y, m in db.session.execute(union(gift_months, goods_months))]
    years: set[int] = set()
    if basis in (None, StatementBasis.FISCAL):
        years |= {fiscal_year_of(date(y, m, 1), start_month) for y, m in months}
    if basis in (None, StatementBasis.CALENDAR):
        years |= {y for y, _ in months}
    return sorted(years, reverse=True)


def _start_month_or_default() -> int:
    org = db.session.get(Organization, 1)
    return org.fiscal_year_start_month if org is not None else 1


def default_tax_year(
    today: date | None = None, basis: StatementBasis = StatementBasis.FISCAL
) -> int:
    """The year a treasurer most likely means: the last one that has ended."""
    return last_closed_year(basis, today)


def tax_year_label(tax_year: int, basis: StatementBasis | str = StatementBasis.FISCAL) -> str:
    return receipts.statement_label(tax_year, basis, _start_month_or_default())


def bases_coincide() -> bool:
    """True when the fiscal year is the calendar year, so there is no basis to choose."""
    return receipts.bases_coincide(_start_month_or_default())


def run_label(run: YearEndRun) -> str:
    """What a run covers, from its own (frozen) period: "FY 2026 (July 2025 - June 2026)"."""
    if run.basis == StatementBasis.CALENDAR:
        return tax_year_label(run.tax_year, StatementBasis.CALENDAR)
    if (run.period_start.month, run.period_start.day) == (1, 1):
        return str(run.tax_year)
    return f"FY {run.tax_year} ({run.period_start:%B %Y} - {run.period_end:%B %Y})"


# --- runs ---------------------------------------------------------------------


def is_alive(run: YearEndRun, *, now=None) -> bool:
    """True while a running run has shown signs of life lately."""
    if run.status != YearEndStatus.RUNNING:
        return False
    last = run.heartbeat_at or run.started_at
    return last is not None and (now or utcnow()) - last <= STALE_AFTER


def runs_query(*, period: tuple[date, date] | None = None) -> Select[tuple[YearEndRun]]:
    """Year-end runs, newest first; of one period (first and last day) if given."""
    query = select(YearEndRun).order_by(YearEndRun.started_at.desc(), YearEndRun.id.desc())
    if period is not None:
        query = query.where(
            YearEndRun.period_start == period[0], YearEndRun.period_end == period[1]
        )
    return query


def get_run(run_id: int) -> YearEndRun:
    run = db.session.get(YearEndRun, run_id) if 0 < run_id <= MAX_ROW_ID else None
    if run is None:
        raise NotFound("There is no such year-end run.")
    return run


def _period_of(
    tax_year: int, basis: StatementBasis | str, *, open_confirmed: bool
) -> tuple[StatementBasis, str, date, date]:
    """The basis, label, first and last day of a tax year; refuses a bad year, an unknown
    basis, and a period still open (ending after today) unless that was confirmed."""
    if not isinstance(tax_year, int) or not FIRST_TAX_YEAR <= tax_year <= LAST_TAX_YEAR:
        raise InvalidInput(
            f"Enter a year between {FIRST_TAX_YEAR} and {LAST_TAX_YEAR}.", field="tax_year"
        )
    basis = receipts.parse_basis(basis)
    start_month = _start_month()
    label = receipts.statement_label(tax_year, basis, start_month)
    start, end = receipts.statement_period(tax_year, basis, start_month)
    if is_open(end) and not open_confirmed:
        raise InvalidInput(
            f"{label} is not over yet: it ends on {end:%B} {end.day}, {end.year}. Gifts still "
            "to come would be left off the statements. Tick the box to send them anyway, or "
            "choose a year that has ended.",
            field="confirm_open",
        )
    return basis, label, start, end


def is_open(end: date, today: date | None = None) -> bool:
    """True while a period has not ended: gifts may still come in."""
    return end >= (today or utcnow().date())


def last_closed_year(
    basis: StatementBasis = StatementBasis.FISCAL, today: date | None = None
) -> int:
    """The newest tax year on ``basis`` that has ended."""
    today = today or utcnow().date()
    start_month = 1 if basis == StatementBasis.CALENDAR else _start_month_or_default()
    return fiscal_year_of(today, start_month) - 1


def start_run(
    *,
    actor: User | None,
    tax_year: int,
    basis: StatementBasis | str = StatementBasis.FISCAL,
    open_confirmed: bool = False,
) -> YearEndRun:
    """Start the year-end statements of a tax year, or continue an interrupted run of it.

    ``basis`` is "fiscal" (the organisation's fiscal year, named by the calendar
    year it ends in) or "calendar" (January to December). Refuses an unknown
    basis, a period without gifts, a period whose run is still going, and a
    period not over yet unless ``open_confirmed``. The caller commits, then
    calls ``run_year_end`` (in this process or another), which issues and audits
    every statement and email in the name of ``actor``.
    """
    basis, label, start, end = _period_of(tax_year, basis, open_confirmed=open_confirmed)
    total = count_donors(start, end)
    if total == 0:
        raise InvalidInput(
            f"No gifts of money or goods were recorded in {label}, so there are no "
            "statements to send. Choose another year.",
            field="tax_year",
        )
    serialize_writes(LOCK_NAME)
    latest = db.session.scalar(runs_query(period=(start, end)).limit(1).with_for_update())
    now = utcnow()
    if latest is not None and is_alive(latest, now=now):
        raise NotAllowed(
            f"The statements for {label} are being prepared right now (run #{latest.id}). "
            "Follow its progress on its page; it can be started again once it stops."
        )
    if latest is not None and latest.status != YearEndStatus.DONE:
        run = latest  # stopped, failed, or died without saying so: carry on with it
        previous = run.status
        action, summary = "year_end.continued", f"{label}: run #{run.id} continued ({previous})"
    else:
        run = YearEndRun(
            tax_year=tax_year,
            basis=basis.value,
            period_start=start,
            period_end=end,
            started_by_id=actor.id if actor is not None else None,
            started_at=now,
        )
        db.session.add(run)
        action, summary = "year_end.started", f"{label}: {total:,} donors"
    run.status = YearEndStatus.RUNNING.value
    run.heartbeat_at = now
    run.finished_at = None
    run.last_error = ""
    run.donors_total = total
    run.donors_done = _count_done(run.period_start, run.period_end)
    db.session.flush()
    record_audit(
        actor=actor, action=action, object_type="year_end_run", object_id=run.id, summary=summary
    )
    return run


def run_statements(run_id: int, *, limit: int) -> list[Receipt]:
    """The statements a run issued, in number order (void ones too), at most ``limit``."""
    return list(
        db.session.scalars(
            select(Receipt)
            .where(Receipt.year_end_run_id == run_id)
            .order_by(Receipt.fiscal_year, Receipt.sequence_number)
            .limit(limit)
        )
    )


# --- the preview: what a run would do, before anything is issued ----------------------

PREVIEW_ROWS = 500  # donors listed on the preview page; the counts cover them all


@dataclass(frozen=True)
class PreviewRow:
    donor_id: int
    name: str
    email: str  # "" when the statement goes by post
    gifts: int
    goods: int
    gross_cents: int
    benefit_cents: int
    deductible_cents: int
    problem: str = ""  # why no statement would be issued


@dataclass
class YearEndPreview:
    """The donors a run would send statements to, with counts and totals; nothing issued."""

    tax_year: int
    basis: str
    label: str
    start: date
    end: date
    is_open: bool
    currency: str
    rows: list[PreviewRow] = field(default_factory=list)
    already_done: int = 0  # donors who already have a statement for the period
    count: int = 0  # statements a run would issue
    by_email: int = 0
    by_post: int = 0
    gross_cents: int = 0
    benefit_cents: int = 0
    deductible_cents: int = 0
    problems: int = 0

    @property
    def more(self) -> int:
        """Donors counted but not listed."""
        return self.count + self.problems - len(self.rows)

    @property
    def sample_donor_id(self) -> int | None:
        return next((r.donor_id for r in self.rows if not r.problem), None)


def preview_run(
    *, tax_year: int, basis: StatementBasis | str = StatementBasis.FISCAL, open_confirmed: bool
) -> YearEndPreview:
    """What starting this year would do: the donors, the count, the totals, who gets mail
    and who post. Issues nothing, takes no number, stores nothing."""
    basis, label, start, end = _period_of(tax_year, basis, open_confirmed=open_confirmed)
    org = db.session.get(Organization, 1)
    preview = YearEndPreview(
        tax_year=tax_year,
        basis=basis.value,
        label=label,
        start=start,
        end=end,
        is_open=is_open(end),
        currency=org.default_currency,
    )
    if count_donors(start, end) == 0:
        raise InvalidInput(
            f"No gifts of money or goods were recorded in {label}, so there are no "
            "statements to send. Choose another year.",
            field="tax_year",
        )
    preview.already_done = _count_done(start, end)
    _preview_totals(preview)
    preview.rows.sort(key=lambda r: (r.name.lower(), r.donor_id))
    return preview


def _preview_totals(preview: YearEndPreview) -> None:
    """Count and total what each donor still without a statement would get, in a few
    queries (a run of thousands of donors is previewed in one request). The same rules
    as ``receipts.draft_statement``: paid gifts, corrections left out, less refunds and
    lost disputes, less the value received; goods whose intake was not reversed."""
    start, end = preview.start, preview.end
    ids = _donor_ids_with_gifts(start, end)
    pending = select(ids.c.donor_id).where(ids.c.donor_id.not_in(_with_statement(start, end)))
    corrected = select(Gift.corrects_gift_id).where(
        Gift.is_reversal.is_(True), Gift.corrects_gift_id.is_not(None)
    )
    gifts: dict[int, list[tuple[str, int, int]]] = {}
    for donor_id, currency, amount, refunded, dispute, status, benefit in db.session.execute(
        select(
            Gift.donor_id,
            Gift.currency,
            Gift.amount_cents,
            Gift.refunded_cents,
            Gift.dispute_cents,
            Gift.dispute_status,
            Gift.benefit_cents,
        ).where(
            Gift.donor_id.in_(pending),
            Gift.status == GiftStatus.PAID.value,
            Gift.is_reversal.is_(False),
            Gift.id.not_in(corrected),
            Gift.received_at >= start_of_day(start),
            Gift.received_at < start_of_day(day_after(end)),
        )
    ):
        given = receipts.receipted_amount(amount, refunded, dispute, status)
        if given > 0:
            gifts.setdefault(donor_id, []).append((currency, given, min(benefit or 0, given)))
    reversed_intakes = select(StockDocument.reverses_id).where(
        StockDocument.reverses_id.is_not(None)
    )
    goods = dict(
        db.session.execute(
            select(InKindGift.donor_id, func.count())
            .where(
                InKindGift.donor_id.in_(pending),
                InKindGift.received_on >= start,
                InKindGift.received_on <= end,
                InKindGift.document_id.not_in(reversed_intakes),
            )
            .group_by(InKindGift.donor_id)
        ).all()
    )
    for donor_id, name, email in db.session.execute(
        select(Donor.id, Donor.name, Donor.email).where(Donor.id.in_(pending))
    ):
        lines = gifts.get(donor_id, [])
        if not lines and not goods.get(donor_id):
            continue  # every gift refunded or reversed: nothing to state
        if len({currency for currency, _, _ in lines}) > 1:
            preview.problems += 1
            if len(preview.rows) < PREVIEW_ROWS:
                problem = f"{name} gave in several currencies; statements need one."
                preview.rows.append(PreviewRow(donor_id, name, email or "", 0, 0, 0, 0, 0, problem))
            continue
        gross = sum(given for _, given, _ in lines)
        benefit = sum(value for _, _, value in lines)
        preview.count += 1
        if email:
            preview.by_email += 1
        else:
            preview.by_post += 1
        preview.gross_cents += gross
        preview.benefit_cents += benefit
        preview.deductible_cents += gross - benefit
        if len(preview.rows) < PREVIEW_ROWS:
            preview.rows.append(
                PreviewRow(
                    donor_id=donor_id,
                    name=name,
                    email=email or "",
                    gifts=len(lines),
                    goods=goods.get(donor_id, 0),
                    gross_cents=gross,
                    benefit_cents=benefit,
                    deductible_cents=gross - benefit,
                )
            )


def sample_statement_pdf(
    *,
    tax_year: int,
    basis: StatementBasis | str = StatementBasis.FISCAL,
    open_confirmed: bool,
    donor_id: int | None = None,
) -> tuple[str, bytes]:
    """One donor's statement of the year as it would be issued, marked "PREVIEW — not
    issued": no number taken, nothing stored. The first donor to get one unless named.

    Returns the donor's name and the PDF.
    """
    basis, label, start, end = _period_of(tax_year, basis, open_confirmed=open_confirmed)
    if donor_id is None:
        candidates = _next_donors(start, end, 0, BATCH_SIZE)
    else:
        candidates = [donor_id] if 0 < donor_id <= MAX_ROW_ID else []
    for candidate in candidates:
        donor = db.session.get(Donor, candidate)
        if donor is None:
            continue
        try:
            draft = receipts.draft_statement(donor=donor, start=start, end=end, label=label)
        except DomainError:
            continue
        content = receipts.preview_statement_content(draft, label=label, basis=basis)
        logo = receipts.get_receipt_settings().logo
        return donor.name, render_receipt(content, branding=Branding(logo=logo), preview=True)
    raise NotFound(f"No donor has a statement to preview for {label}.")


# --- one donor's statement over any dates ----------------------------------------------


def get_donor(donor_id: int) -> Donor:
    donor = db.session.get(Donor, donor_id) if 0 < donor_id <= MAX_ROW_ID else None
    if donor is None or donor.is_merged:
        raise NotFound("There is no such donor.")
    return donor


def preview_donor_statement(
    *, donor_id: int, start: date | None, end: date | None
) -> receipts.StatementDraft:
    """What one donor's statement of a range would list; refuses an empty or reversed range
    and one without gifts. Issues nothing."""
    _start_month()  # no statements without the organisation profile
    return receipts.draft_range_statement(donor=get_donor(donor_id), start=start, end=end)


def donor_statement_pdf(*, donor_id: int, start: date | None, end: date | None) -> bytes:
    """One donor's statement of a range marked "PREVIEW — not issued"; nothing stored."""
    draft = preview_donor_statement(donor_id=donor_id, start=start, end=end)
    label = receipts.range_label(draft.start, draft.end)
    content = receipts.preview_statement_content(draft, label=label, basis=StatementBasis.RANGE)
    logo = receipts.get_receipt_settings().logo
    return render_receipt(content, branding=Branding(logo=logo), preview=True)


def issue_donor_statement(
    *, actor: User | None, donor_id: int, start: date | None, end: date | None, email: bool
) -> Receipt:
    """Issue one donor's numbered statement of a range and, if asked and the donor has an
    email address, queue it to them with its PDF."""
    _start_month()
    receipt = receipts.issue_range_statement(
        actor=actor, donor=get_donor(donor_id), start=start, end=end
    )
    if email and receipt.donor.email:
        send_receipt(receipt, actor=actor)
    return receipt


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


class _InlineExecutor:
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
        return _InlineExecutor(logo)
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
class _Batch:
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


def _undelivered(run: YearEndRun) -> list[int]:
    """Statements this run issued whose email was never queued (it was interrupted)."""
    return list(
        db.session.scalars(
            select(Receipt.id)
            .where(
                Receipt.year_end_run_id == run.id,
                Receipt.status == ReceiptStatus.VALID.value,
                Receipt.delivery == "",
                Receipt.mail_message_id.is_(None),
            )
            .order_by(Receipt.id)
        )
    )


def _submit(executor, receipt_ids: list[int]) -> _Batch:
    contents = dict(
        db.session.execute(
            select(Receipt.id, Receipt.content).where(Receipt.id.in_(receipt_ids))
        ).all()
    )
    return _Batch([(rid, executor.submit(_render, contents[rid])) for rid in receipt_ids])


def _deliver(
    batch: _Batch, run: YearEndRun, result: YearEndResult, progress: Callable | None
) -> None:
    """Queue the emails of a rendered batch, in one transaction."""
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
    run.heartbeat_at = utcnow()
    db.session.commit()
    if progress is not None:
        progress(_progress_of(run))


def _issue_batch(
    run: YearEndRun,
    donor_ids: list[int],
    result: YearEndResult,
    progress: Callable | None,
    stop: _StopFlag,
) -> tuple[list[int], bool]:
    """Issue the statements of a batch of donors and commit; return those to email."""
    to_email: list[int] = []
    for donor_id in donor_ids:
        if stop.requested:
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
        if progress is not None:
            progress(_progress_of(run))
    run.heartbeat_at = utcnow()
    db.session.commit()
    return to_email, stop.requested


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
    _start_month()  # no statements without the organisation profile
    start, end = run.period_start, run.period_end
    label = run_label(run)
    run.donors_total = count_donors(start, end)
    run.donors_done = _count_done(start, end)
    result.skipped = run.donors_done
    run.heartbeat_at = utcnow()
    logo = receipts.get_receipt_settings().logo
    db.session.commit()

    stop = _StopFlag()
    stop.install()
    executor = _executor(workers, logo)
    in_flight: _Batch | None = None
    try:
        if progress is not None:
            progress(_progress_of(run))
        # First the emails an interruption left unqueued, then the donors still to do.
        for ids in _chunks(_undelivered(run), batch_size):
            batch = _submit(executor, ids)
            if in_flight is not None:
                _deliver(in_flight, run, result, progress)
            in_flight = batch
        after_id = 0
        stopped = False
        while not stopped:
            donor_ids = _next_donors(start, end, after_id, batch_size)
            if not donor_ids:
                break
            after_id = donor_ids[-1]
            to_email, stopped = _issue_batch(run, donor_ids, result, progress, stop)
            batch = _submit(executor, to_email)
            if in_flight is not None:
                _deliver(in_flight, run, result, progress)
            in_flight = batch
        if in_flight is not None:
            _deliver(in_flight, run, result, progress)
            in_flight = None
        stopped = stopped or stop.requested
        run.status = (YearEndStatus.STOPPED if stopped else YearEndStatus.DONE).value
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
        _finish_badly(run_id, result, YearEndStatus.STOPPED, "")
        executor.shutdown(wait=True, cancel_futures=True)
    except BaseException as error:
        _finish_badly(run_id, result, YearEndStatus.FAILED, f"{type(error).__name__}: {error}")
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        stop.restore()
        executor.shutdown(wait=True)
    return result


def _finish_badly(run_id: int, result: YearEndResult, status: YearEndStatus, error: str) -> None:
    """Mark a run stopped or failed after its open transaction was rolled back."""
    db.session.rollback()
    try:
        run = db.session.get(YearEndRun, run_id, populate_existing=True)
        run.status = status.value
        run.finished_at = utcnow()
        run.heartbeat_at = run.finished_at
        if error:
            run.last_error = (error + ("\n" + run.last_error if run.last_error else ""))[:4000]
        db.session.commit()
    except Exception:  # the database itself may be what failed
        db.session.rollback()
        log.exception("year-end run %s: could not record that it %s", run_id, status.value)
    result.status = status.value


# --- every receipt of a period, as a ZIP ---------------------------------------------


def receipts_issued_between(start: date, end: date) -> list[int]:
    """The ids of the receipts issued in a period (void ones too), in number order."""
    if end < start:
        raise InvalidInput("The last date of the period is before its first date.", field="to")
    return list(
        db.session.scalars(
            select(Receipt.id)
            .where(
                Receipt.issued_at >= start_of_day(start),
                Receipt.issued_at < start_of_day(day_after(end)),
            )
            .order_by(Receipt.fiscal_year, Receipt.sequence_number)
        )
    )


class _ChunkSink(io.RawIOBase):
    """A write-only, unseekable file that keeps what was written until drained."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_member_name(receipt: Receipt) -> str:
    """ "statement-2026-000042.pdf", or "receipt-2026-000007-VOID.pdf" for a void one."""
    name = receipt_filename(receipt)
    return name[: -len(".pdf")] + "-VOID.pdf" if receipt.is_void else name


def stream_receipts_zip(receipt_ids: list[int], *, chunk: int = 100) -> Iterator[bytes]:
    """Yield a ZIP of the receipts' PDFs piece by piece: one PDF in memory at a time.

    The archive is written to an unseekable sink, so ``zipfile`` puts each
    file's sizes after its data and nothing has to be rewritten.
    """
    sink = _ChunkSink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for ids in _chunks(receipt_ids, chunk):
            rows = db.session.scalars(
                select(Receipt)
                .where(Receipt.id.in_(ids))
                .order_by(Receipt.fiscal_year, Receipt.sequence_number)
            ).all()
            for receipt in rows:
                info = zipfile.ZipInfo(zip_member_name(receipt), receipt.issued_at.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, receipt_pdf(receipt))
                yield sink.drain()
    yield sink.drain()
