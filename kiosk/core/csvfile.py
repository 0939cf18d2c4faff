"""CSV files in and out, one way for the kiosk and the central store alike.

`read_csv_named` reads a file to text and names its encoding (UTF-8, GBK or
GB18030: `kiosk.domain.encodings`); `csv_text` writes rows, the one CSV
writer of the project, and `csv_for_excel` the same with a BOM for Excel.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Mapping

from kiosk.domain.encodings import decode_named
from kiosk.domain.errors import KioskError


def csv_text(rows: Iterable[Mapping], columns: list[str] | None = None) -> str:
    """Rows as CSV text with a header line (the first row's keys unless `columns` names them)."""
    rows = list(rows)
    if columns is None:
        columns = list(rows[0]) if rows else []
    out = io.StringIO()
    if columns:
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def csv_for_excel(rows: Iterable[Mapping], columns: list[str] | None = None) -> str:
    """`csv_text` with a byte order mark first, so that Excel (on a Chinese Windows too) reads it as UTF-8."""
    return "\ufeff" + csv_text(rows, columns)


def read_csv_named(csv_path: str) -> tuple[str, str]:
    """A CSV file's text and the name of its encoding; `KioskError` naming the file when it cannot be read."""
    try:
        data = Path(csv_path).read_bytes()
    except OSError as exc:
        raise KioskError(f"{csv_path}: cannot read: {exc.strerror}") from None
    return decode_named(data, csv_path)
