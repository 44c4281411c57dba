"""The goods ledger: documents of movements, balances kept beside them, and checks.

The package is split by concern: ``checks`` (lookups and validation of what a
form holds), ``ledger`` (posting moves against locked balances, the one way
stock changes), ``documents`` (intake, distribution, transfer, adjustment and
reversal), ``counts`` (shelf counts), ``kits`` (kit assembly) and ``queries``
(read-only views). Callers use ``from donations.services import inventory`` and
the names re-exported here.
"""

from __future__ import annotations

from donations.services.inventory.checks import (
    BACKDATE_MAX_DAYS,
    CASE_CODE_HINT,
    CASE_CODE_MAX_LENGTH,
    DRIVE_NAME_MAX_LENGTH,
    LINES_MAX,
    NOTE_MAX_LENGTH,
    OUTGOING_REASONS,
    QUANTITY_MAX,
    REASON_LABELS,
    SOURCE_LABELS,
    Line,
    check_case_code,
    find_item_by_code,
    get_document,
    get_item,
    get_site,
)
from donations.services.inventory.counts import CountDifference, preview_count, record_count
from donations.services.inventory.documents import (
    record_adjustment,
    record_distribution,
    record_intake,
    record_transfer,
    reverse_document,
)
from donations.services.inventory.kits import assemble_kits
from donations.services.inventory.ledger import (
    LOCK_NAME,
    BalanceProblem,
    InsufficientStock,
    Move,
    PostResult,
    Shortage,
    lock_levels,
    set_par_levels,
    verify_balances,
)
from donations.services.inventory.queries import (
    HeldItem,
    Need,
    documents_query,
    find_site,
    in_kind_gifts_of,
    item_history_page,
    item_history_query,
    on_hand_by_site,
    public_needs,
    reversal_of,
    sites_open_first,
    stock_as_of,
    stock_series,
    top_distributed,
    under_par_query,
)

__all__ = [
    "BACKDATE_MAX_DAYS",
    "CASE_CODE_HINT",
    "CASE_CODE_MAX_LENGTH",
    "DRIVE_NAME_MAX_LENGTH",
    "LINES_MAX",
    "LOCK_NAME",
    "NOTE_MAX_LENGTH",
    "OUTGOING_REASONS",
    "QUANTITY_MAX",
    "REASON_LABELS",
    "SOURCE_LABELS",
    "BalanceProblem",
    "CountDifference",
    "HeldItem",
    "InsufficientStock",
    "Line",
    "Move",
    "Need",
    "PostResult",
    "Shortage",
    "assemble_kits",
    "check_case_code",
    "documents_query",
    "find_item_by_code",
    "find_site",
    "get_document",
    "get_item",
    "get_site",
    "in_kind_gifts_of",
    "item_history_page",
    "item_history_query",
    "lock_levels",
    "on_hand_by_site",
    "preview_count",
    "public_needs",
    "record_adjustment",
    "record_count",
    "record_distribution",
    "record_intake",
    "record_transfer",
    "reversal_of",
    "reverse_document",
    "set_par_levels",
    "sites_open_first",
    "stock_as_of",
    "stock_series",
    "top_distributed",
    "under_par_query",
    "verify_balances",
]
