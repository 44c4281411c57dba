"""CSV files of the goods ledger: an intake list read in, the ledger and stock levels written out.

``intake_list`` holds the checked list and its rows, ``intake_csv`` reads an
uploaded file, ``intake_rows`` checks each row against the catalog,
``intake_recording`` records a list with no problem through
``inventory.record_intake``, and ``exports`` streams the ledger and stock levels.
Callers use ``from donations.services import inventory_files`` and the names
re-exported here.
"""

from __future__ import annotations

from donations.services.inventory_files.exports import (
    EXPORT_BATCH,
    LEDGER_HEADER,
    STOCK_HEADER,
    csv_chunks,
    export_filename,
    ledger_csv,
    safe_cell,
    stock_rows,
)
from donations.services.inventory_files.intake_csv import (
    decode_upload,
    parse_intake_text,
    read_intake_csv,
)
from donations.services.inventory_files.intake_list import (
    CELL_SHOWN_MAX,
    COLUMNS_HINT,
    FILE_FIELD,
    REMOVED_CELL,
    ROWS_MAX,
    SAVE_AS_HINT,
    UPLOAD_MAX_BYTES,
    IntakeList,
    PreviewRow,
)
from donations.services.inventory_files.intake_recording import (
    IntakeHeader,
    check_intake_header,
    intake_donor,
    record_intake_list,
)

__all__ = [
    "CELL_SHOWN_MAX",
    "COLUMNS_HINT",
    "EXPORT_BATCH",
    "FILE_FIELD",
    "LEDGER_HEADER",
    "REMOVED_CELL",
    "ROWS_MAX",
    "SAVE_AS_HINT",
    "STOCK_HEADER",
    "UPLOAD_MAX_BYTES",
    "IntakeHeader",
    "IntakeList",
    "PreviewRow",
    "check_intake_header",
    "csv_chunks",
    "decode_upload",
    "export_filename",
    "intake_donor",
    "ledger_csv",
    "parse_intake_text",
    "read_intake_csv",
    "record_intake_list",
    "safe_cell",
    "stock_rows",
]
