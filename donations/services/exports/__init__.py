"""CSV exports for the treasurer and the accountant: gifts, in-kind gifts, a journal.

Each export reads the database in batches (``yield_per``: a server-side cursor
on PostgreSQL) and yields CSV text a batch at a time, so a file of a million
rows streams in constant memory. The in-kind and journal exports are
generators of rows (the header first) that ``csv_chunks`` turns into text; the
gifts export, the big one, writes its lines itself (``gift_csv``), byte for
byte as ``csv.writer`` would.

Money leaves as plain decimal strings made from integer cents ("50.00",
"-12.50"), never through a float. Text that came from people (names, emails,
fund names, memos) goes through ``safe_cell`` so a spreadsheet shows it rather
than running it as a formula; amounts are not escaped, so "-50.00" stays a
number.
"""

from donations.services.exports.common import (
    CACHE_MAX,
    CHUNK_ROWS,
    EXPORT_BATCH,
    METHOD_LABELS,
    csv_chunks,
    csv_head,
    csv_line,
    day_of,
    export_filename,
    plain_amount,
)
from donations.services.exports.gifts import (
    FREQUENCY_LABELS,
    GIFTS_HEADER,
    gift_csv,
    gift_status_label,
)
from donations.services.exports.in_kind import CONDITION_LABELS, IN_KIND_HEADER, in_kind_rows
from donations.services.exports.journal import (
    JOURNAL_HEADER,
    Accounts,
    JournalLine,
    journal_accounts,
    journal_lines,
    journal_rows,
)

__all__ = [
    "CACHE_MAX",
    "CHUNK_ROWS",
    "CONDITION_LABELS",
    "EXPORT_BATCH",
    "FREQUENCY_LABELS",
    "GIFTS_HEADER",
    "IN_KIND_HEADER",
    "JOURNAL_HEADER",
    "METHOD_LABELS",
    "Accounts",
    "JournalLine",
    "csv_chunks",
    "csv_head",
    "csv_line",
    "day_of",
    "export_filename",
    "gift_csv",
    "gift_status_label",
    "in_kind_rows",
    "journal_accounts",
    "journal_lines",
    "journal_rows",
    "plain_amount",
]
