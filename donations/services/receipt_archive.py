"""Every receipt issued in a period as one ZIP of PDFs, streamed as it is made."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date

from sqlalchemy import select

from donations.extensions import db
from donations.models import Receipt
from donations.services.errors import InvalidInput
from donations.services.periods import day_after, start_of_day
from donations.services.receipt_files import download_name, receipt_pdf


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


class ChunkSink(io.RawIOBase):
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


def stream_receipts_zip(receipt_ids: list[int], *, chunk: int = 100) -> Iterator[bytes]:
    """Yield a ZIP of the receipts' PDFs piece by piece: one PDF in memory at a time.

    The archive is written to an unseekable sink, so ``zipfile`` puts each
    file's sizes after its data and nothing has to be rewritten.
    """
    sink = ChunkSink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for i in range(0, len(receipt_ids), chunk):
            ids = receipt_ids[i : i + chunk]
            rows = db.session.scalars(
                select(Receipt)
                .where(Receipt.id.in_(ids))
                .order_by(Receipt.fiscal_year, Receipt.sequence_number)
            ).all()
            for receipt in rows:
                info = zipfile.ZipInfo(download_name(receipt), receipt.issued_at.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, receipt_pdf(receipt))
                yield sink.drain()
    yield sink.drain()
