"""CSV files in and out, one way for the kiosk and the central store alike.

`read_csv_named` reads a file to text and names its encoding (UTF-8, GBK or
GB18030: `kiosk.domain.encodings`); `csv_text` writes rows, the one CSV
writer of the project, so every export and report is safe to open in a
spreadsheet, and `csv_for_excel` the same with a BOM for Excel.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Mapping

from kiosk.domain.catalog import FORMULA_STARTS
from kiosk.domain.encodings import decode_named
from kiosk.domain.errors import KioskError

FORMULA_FIRST = frozenset(start[0] for start in FORMULA_STARTS)  # each start is one character


def spreadsheet_safe(value):
    """A text cell a spreadsheet would run as a formula, with a leading `'` (OWASP's advice on CSV injection).

    Numbers stay numbers: `-5` runs nothing and a spreadsheet adds it up.
    The import takes the `'` off again (`kiosk.domain.catalog`), so an
    exported file imports back unchanged.
    """
    return "'" + value if isinstance(value, str) and value[:1] in FORMULA_FIRST else value


def csv_text(rows: Iterable[Mapping], columns: list[str] | None = None) -> str:
    """Rows as CSV text with a header line (the first row's keys unless `columns` names them).

    Lines end in CRLF (RFC 4180), so a carriage return inside a cell is quoted too.
    """
    rows = list(rows)
    if columns is None:
        columns = list(rows[0]) if rows else []
    return csv_table(columns, ([row.get(c, "") for c in columns] for row in rows))


def csv_table(columns: Iterable[str], rows: Iterable[Iterable]) -> str:
    """`csv_text` of rows given as sequences in the order of `columns` (a big report need not make dicts)."""
    columns = list(columns)
    out = io.StringIO()
    if columns:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        # A plain writer and one set lookup per cell: DictWriter took 0.4 s for 30,000 rows of six cells.
        writer.writerows([spreadsheet_safe(value) for value in row] for row in rows)
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
