"""CSV files in and out, one way for the kiosk and the central store alike.

`read_csv` reads a file to text (the domain's `decode` says which encodings
are taken); `csv_text` writes rows, the one CSV writer of the project, so
every export and report is safe to open in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Mapping

from kiosk.domain.catalog import FORMULA_STARTS, decode
from kiosk.domain.errors import KioskError


def read_csv(csv_path: str) -> str:
    """A CSV file's text; `KioskError` naming the file when it cannot be read."""
    try:
        data = Path(csv_path).read_bytes()
    except OSError as exc:
        raise KioskError(f"{csv_path}: cannot read: {exc.strerror}") from None
    return decode(data, csv_path)


def spreadsheet_safe(value):
    """A text cell a spreadsheet would run as a formula, with a leading `'` (OWASP's advice on CSV injection).

    Numbers stay numbers: `-5` runs nothing and a spreadsheet adds it up.
    The import takes the `'` off again (`kiosk.domain.catalog`), so an
    exported file imports back unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Mapping], columns: list[str] | None = None) -> str:
    """Rows as CSV text with a header line (the first row's keys unless `columns` names them).

    Lines end in CRLF (RFC 4180), so a carriage return inside a cell is quoted too.
    """
    rows = list(rows)
    if columns is None:
        columns = list(rows[0]) if rows else []
    out = io.StringIO()
    if columns:
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    return out.getvalue()
