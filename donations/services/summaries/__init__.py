"""Summary tables: totals kept beside the rows they sum, in the same transaction, so
the reports, the dashboard and stock on a past date read a bounded number of rows
however many gifts and ledger entries there are.

``periods`` (days, months and years; the UPSERT that adds), ``money`` (gifts and
donors, kept at every flush of a gift) and ``goods`` (the stock ledger, kept by
``inventory.ledger.post_document``). ``verify_money`` and ``verify_stock`` recompute
every row from its source (``flask reports verify``, ``flask inventory verify``).
"""

from donations.services.summaries.goods import (
    daily_levels,
    given_out,
    goods_sums,
    held_on,
    record_document,
    verify_stock,
)
from donations.services.summaries.money import (
    DonorCounts,
    donor_counts,
    money_sums,
    move_donor,
    verify_money,
)
from donations.services.summaries.periods import LAST_DAY, SummaryProblem, cover

__all__ = [
    "LAST_DAY",
    "DonorCounts",
    "SummaryProblem",
    "cover",
    "daily_levels",
    "donor_counts",
    "given_out",
    "goods_sums",
    "held_on",
    "money_sums",
    "move_donor",
    "record_document",
    "verify_money",
    "verify_stock",
]
