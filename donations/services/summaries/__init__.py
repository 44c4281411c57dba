"""Summary tables: totals kept beside the rows they sum, in the same transaction, so
the reports, the dashboard and stock on a past date read a bounded number of rows
however many gifts and ledger entries there are.

``periods`` (days, months and years; the UPSERT that adds), ``money`` (gifts and
donors, kept at every flush of a gift, or once for a batch: ``added_at_end``),
``retention`` (each donor's giving years and per-year donor counters, kept from
``money``'s yearly rows), ``donor_days`` (donors in any period from day and gap
counters, kept from ``money``'s day rows), ``goods`` (the stock ledger, kept by
``inventory.ledger.post_document``) with ``categories`` (the same per category) and
``closings`` (balances at each month's end). ``verify_money`` and
``verify_stock`` recompute every row from its source (``flask reports verify``,
``flask inventory verify``); ``rebuild_all`` refills every table from the rows
(``flask reports rebuild``, and rows written in bulk outside the ORM).
"""

from donations.extensions import db
from donations.services.summaries.categories import goods_sums, move_item, rebuild_categories
from donations.services.summaries.closings import held_on, rebuild_closings
from donations.services.summaries.donor_days import donors_in, first_timers
from donations.services.summaries.goods import (
    daily_levels,
    given_out,
    rebuild_stock,
    record_document,
    verify_stock,
)
from donations.services.summaries.money import (
    DonorCounts,
    added_at_end,
    donor_counts,
    money_sums,
    move_donor,
    rebuild_money,
    verify_money,
)
from donations.services.summaries.periods import LAST_DAY, SummaryProblem, cover
from donations.services.summaries.retention import YearCounts, rebuild_retention, year_counts
from donations.tenancy import across_organizations


@across_organizations()
def rebuild_all() -> None:
    """Refill every summary table from the gifts and the ledger (the caller commits)."""
    rebuild_money()
    rebuild_retention()
    rebuild_stock()
    rebuild_categories()  # from the stock totals just rebuilt
    rebuild_closings()
    db.session.flush()


__all__ = [
    "LAST_DAY",
    "DonorCounts",
    "SummaryProblem",
    "YearCounts",
    "added_at_end",
    "cover",
    "daily_levels",
    "donor_counts",
    "donors_in",
    "first_timers",
    "given_out",
    "goods_sums",
    "held_on",
    "money_sums",
    "move_donor",
    "move_item",
    "rebuild_all",
    "record_document",
    "verify_money",
    "verify_stock",
    "year_counts",
]
