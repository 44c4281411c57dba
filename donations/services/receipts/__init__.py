"""Receipts: issued with a gap-free number per fiscal year, never edited, voided and reissued.

A number is taken in the same transaction as the receipt row (``numbers``);
what a receipt prints is frozen at issue as JSON (``content``). A void keeps
the number and adds a VOID mark; a reissue is a new number pointing at the
voided receipt (``voiding``). Statements list a donor's gifts of a period
(``statements``); single gifts are receipted by ``issuing``.

This package keeps ``from donations.services import receipts`` working: it
re-exports the public names of its modules.
"""

from donations.models import Gift
from donations.services.periods import fiscal_year_of, tax_year_period
from donations.services.receipts.basis import (
    bases_coincide,
    parse_basis,
    statement_label,
    statement_period,
)
from donations.services.receipts.content import (
    QUID_PRO_QUO_THRESHOLD_CENTS,
    get_receipt_settings,
    org_block,
    receipted_amount,
    receipted_cents,
)
from donations.services.receipts.issuing import (
    FORM_8283_THRESHOLD_CENTS,
    issue_first_gift_receipt,
    issue_gift_receipt,
    issue_in_kind_receipt,
)
from donations.services.receipts.lookups import (
    content_of,
    get_receipt,
    replacement_of,
    valid_receipt_for_gift,
    valid_receipt_for_in_kind,
    verify_code,
    void_mark,
    was_corrected,
)
from donations.services.receipts.numbers import (
    LOCK_NAME,
    TEST_PREFIX,
    making_test_receipts,
    new_verification_code,
    normalize_code,
    take_number,
)
from donations.services.receipts.statements import (
    PREVIEW_NUMBER,
    StatementDraft,
    check_statement_range,
    draft_range_statement,
    draft_statement,
    existing_statement,
    issue_range_statement,
    issue_statement,
    preview_statement_content,
    range_label,
    statement_gifts,
)
from donations.services.receipts.voiding import (
    VOID_REASON_MAX_LENGTH,
    correct_gift_receipt,
    reissue_receipt,
    sync_gift_receipt,
    void_receipt,
)

__all__ = [
    "FORM_8283_THRESHOLD_CENTS",
    "LOCK_NAME",
    "PREVIEW_NUMBER",
    "QUID_PRO_QUO_THRESHOLD_CENTS",
    "TEST_PREFIX",
    "VOID_REASON_MAX_LENGTH",
    "Gift",  # the tests select gifts through this module, as before the split
    "StatementDraft",
    "bases_coincide",
    "check_statement_range",
    "content_of",
    "correct_gift_receipt",
    "draft_range_statement",
    "draft_statement",
    "existing_statement",
    "fiscal_year_of",
    "get_receipt",
    "get_receipt_settings",
    "issue_first_gift_receipt",
    "issue_gift_receipt",
    "issue_in_kind_receipt",
    "issue_range_statement",
    "issue_statement",
    "making_test_receipts",
    "new_verification_code",
    "normalize_code",
    "org_block",
    "parse_basis",
    "preview_statement_content",
    "range_label",
    "receipted_amount",
    "receipted_cents",
    "reissue_receipt",
    "replacement_of",
    "statement_gifts",
    "statement_label",
    "statement_period",
    "sync_gift_receipt",
    "take_number",
    "tax_year_period",
    "valid_receipt_for_gift",
    "valid_receipt_for_in_kind",
    "verify_code",
    "void_mark",
    "void_receipt",
    "was_corrected",
]
