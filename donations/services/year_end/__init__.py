"""Year-end statements: one statement per donor who gave in a tax year, emailed with its PDF.

A run is a ``YearEndRun`` row that follows the work: how many donors there are,
how many are done, statements issued, emails queued, statements for the post.
The run itself (batches, worker processes, stop and resume) is a job:
``donations.jobs.year_end_run``. This package holds the domain: the years and
their periods (``years``), the donors of a period (``donors``), starting and
finding runs (``runs``), the preview (``preview``) and one donor's statement
over any dates (``donor_statement``).

A run covers one period: a tax year on a basis, the calendar year (January to
December) or the organisation's fiscal year (named by the calendar year it ends
in). The period is fixed when the run is made and kept on the run and on each
statement, so a calendar-2026 and a fiscal-2026 statement are two documents,
while the same period run again never makes a second one.
"""

from donations.services.year_end.donor_statement import (
    donor_statement_pdf,
    get_donor,
    issue_donor_statement,
    preview_donor_statement,
)
from donations.services.year_end.donors import (
    BATCH_SIZE,
    count_done,
    count_donors,
    next_donors,
)
from donations.services.year_end.preview import (
    PREVIEW_ROWS,
    PreviewRow,
    YearEndPreview,
    preview_run,
    sample_statement_pdf,
)
from donations.services.year_end.runs import (
    LOCK_NAME,
    STALE_AFTER,
    get_run,
    is_alive,
    lock_run,
    mark_not_started,
    recent_runs,
    run_statements,
    runs_query,
    start_run,
    statement_contents,
    take_stalled_runs,
    undelivered_statements,
)
from donations.services.year_end.years import (
    FIRST_TAX_YEAR,
    LAST_TAX_YEAR,
    bases_coincide,
    default_tax_year,
    default_zip_period,
    fiscal_example,
    is_open,
    last_closed_year,
    organization_ready,
    run_label,
    start_month,
    start_month_or_default,
    tax_year_label,
    years_with_gifts,
)

__all__ = [
    "BATCH_SIZE",
    "FIRST_TAX_YEAR",
    "LAST_TAX_YEAR",
    "LOCK_NAME",
    "PREVIEW_ROWS",
    "STALE_AFTER",
    "PreviewRow",
    "YearEndPreview",
    "bases_coincide",
    "count_done",
    "count_donors",
    "default_tax_year",
    "default_zip_period",
    "donor_statement_pdf",
    "fiscal_example",
    "get_donor",
    "get_run",
    "is_alive",
    "is_open",
    "issue_donor_statement",
    "last_closed_year",
    "lock_run",
    "mark_not_started",
    "next_donors",
    "organization_ready",
    "preview_donor_statement",
    "preview_run",
    "recent_runs",
    "run_label",
    "run_statements",
    "runs_query",
    "sample_statement_pdf",
    "start_month",
    "start_month_or_default",
    "start_run",
    "statement_contents",
    "take_stalled_runs",
    "tax_year_label",
    "undelivered_statements",
    "years_with_gifts",
]
