"""One donor's statement over any dates: preview, preview PDF, issue (and email)."""

from __future__ import annotations

from datetime import date

from donations.extensions import db
from donations.models import MAX_ROW_ID, Donor, Receipt, StatementBasis, User
from donations.pdf.content import Branding
from donations.pdf.documents import render_receipt
from donations.services import receipts
from donations.services.errors import NotFound
from donations.services.receipt_delivery import send_receipt
from donations.services.year_end.years import start_month


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
    start_month()  # no statements without the organisation profile
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
    start_month()
    receipt = receipts.issue_range_statement(
        actor=actor, donor=get_donor(donor_id), start=start, end=end
    )
    if email and receipt.donor.email:
        send_receipt(receipt, actor=actor)
    return receipt
