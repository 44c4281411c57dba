"""The treasurer's side of cash gifts: listing and totals, offline gifts and
their corrections, monthly plans, and Stripe events that need a second try.

Totals are summed in SQL over the very conditions that select the listed rows,
so they always equal the sum of those rows, across every page. Offline gifts
are never edited: a correction adds a reversing entry (a negative amount) and,
usually, a replacement gift, both pointing at the original.
"""

from donations.services.gifts.corrections import (
    CORRECTABLE_FIELDS,
    REASON_MAX_LENGTH,
    Corrections,
    correct_gift,
    correction_problem,
    corrections_of,
)
from donations.services.gifts.events import (
    EVENT_FILTERS,
    NEEDS_ATTENTION,
    REPLAYABLE,
    count_events_needing_attention,
    events_query,
    gift_events,
)
from donations.services.gifts.listing import (
    DEFAULT_STATUS,
    MAX_ID,
    STATUS_FILTERS,
    GiftFilters,
    Totals,
    all_funds,
    get_gift,
    gift_conditions,
    gift_query,
    gift_totals,
)
from donations.services.gifts.offline import (
    BENEFIT_DESCRIPTION_MAX_LENGTH,
    CHEQUE_NUMBER_MAX_LENGTH,
    MEMO_MAX_LENGTH,
    OFFLINE_GIFT_COLUMNS,
    OFFLINE_METHODS,
    REFERENCE_MAX_LENGTH,
    describe_gift,
    record_offline_gift,
)
from donations.services.gifts.plans import (
    PLAN_STATUSES,
    instalment_counts,
    next_payment_at,
    plans_query,
)

__all__ = [
    "BENEFIT_DESCRIPTION_MAX_LENGTH",
    "CHEQUE_NUMBER_MAX_LENGTH",
    "CORRECTABLE_FIELDS",
    "DEFAULT_STATUS",
    "EVENT_FILTERS",
    "MAX_ID",
    "MEMO_MAX_LENGTH",
    "NEEDS_ATTENTION",
    "OFFLINE_GIFT_COLUMNS",
    "OFFLINE_METHODS",
    "PLAN_STATUSES",
    "REASON_MAX_LENGTH",
    "REFERENCE_MAX_LENGTH",
    "REPLAYABLE",
    "STATUS_FILTERS",
    "Corrections",
    "GiftFilters",
    "Totals",
    "all_funds",
    "correct_gift",
    "correction_problem",
    "corrections_of",
    "count_events_needing_attention",
    "describe_gift",
    "events_query",
    "get_gift",
    "gift_conditions",
    "gift_events",
    "gift_query",
    "gift_totals",
    "instalment_counts",
    "next_payment_at",
    "plans_query",
    "record_offline_gift",
]
