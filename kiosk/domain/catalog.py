"""Reading patrons and items from CSV: all or nothing, every bad row named.

Pure: the caller reads the file (`kiosk.domain.encodings` tells UTF-8, GBK
and GB18030 apart) and passes the UIDs already in use, and
saves the result in one transaction. The kiosk's `kiosk import` and the
central store's `kiosk-central import` (and its web page) share these rules.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from kiosk.domain.errors import BadUid, ImportRejected
from kiosk.domain.model import ITEM_STATUSES, PATRON_STATUSES, PATRON_TYPES, Item, Patron, normalize_uid
from kiosk.domain.money import parse_money
from kiosk.domain.text import FORMULA_STARTS, bad_character, without_formula_mark

__all__ = ["PATRON_COLUMNS", "ITEM_COLUMNS", "ITEM_OPTIONAL", "FIELD_LIMITS", "FORMULA_STARTS", "parse_patrons",
           "parse_items"]

PATRON_COLUMNS = ("id", "name", "type", "class", "card_uid", "status", "expires")
ITEM_COLUMNS = ("id", "title", "author", "call_number", "tag_uid", "barcode", "home", "status")
ITEM_OPTIONAL = ("price",)  # a file without them imports as before
# Characters a field may have at most: a title of 1,000 is a long one.
FIELD_LIMITS = {"id": 64, "name": 200, "type": 32, "class": 64, "card_uid": 64, "status": 32, "expires": 32,
                "title": 1000, "author": 1000, "call_number": 64, "tag_uid": 64, "barcode": 64, "home": 64,
                "price": 32}


def _rows(text: str, source: str, columns: tuple[str, ...], optional: tuple[str, ...] = ()):
    """(line, values, problems) for each row that is not blank, `values` None when `problems` say why.

    A row is read strictly: a quote left open, a field longer than its
    column's limit, a wrong number of fields or a control character makes
    it a bad row, never a row that swallows the next ones. `optional`
    columns are read when the header has them.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise ImportRejected(source, [f"line 1: {_csv_problem(exc)}"]) from None
    if not any(header):
        raise ImportRejected(source, ["the file is empty: expected a header line " + ",".join(columns)])
    missing = [c for c in columns if c not in header]
    if missing:
        raise ImportRejected(source, [f"line 1: the header lacks column(s) {', '.join(missing)}; "
                                      f"expected {','.join(columns)}"])
    where = {c: header.index(c) for c in columns + tuple(o for o in optional if o in header)}
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problem = _csv_problem(exc)
        else:
            problem = None
        if reader.line_num > line and (problem is None or "never closed" not in problem):
            # A row read over several lines: a field's opening quote has no
            # closing one, whatever the reader stumbled on later.
            problem = f"a quoted field runs on to line {reader.line_num}: a closing quote (\") is missing"
        if problem:
            yield line, None, [f"line {line}: {problem}"]
            continue
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            yield line, None, [f"line {line}: {len(fields)} fields, but the header has {len(header)} columns"]
            continue
        values = {c: without_formula_mark(fields[i]).strip() for c, i in where.items()}
        problems = _field_problems(values, f"line {line}")
        yield line, (None if problems else values), problems


def _csv_problem(exc: csv.Error) -> str:
    """What a reader's error means to whoever saved the file."""
    text = str(exc)
    if "unexpected end of data" in text:
        return "a quote (\") opened on this line is never closed: the file ends inside it"
    if "expected after" in text:
        return "a quote (\") inside a field: quote the whole field and write the quote twice (\"\")"
    if "field limit" in text:
        return f"a field longer than {csv.field_size_limit():,} characters"
    if "new-line character" in text:
        return "a line break inside a field"
    return text


def _field_problems(values: dict[str, str], where: str) -> list[str]:
    problems = []
    for column, value in values.items():
        if len(value) > FIELD_LIMITS[column]:
            problems.append(f"{where}: {column} is {len(value):,} characters long; at most "
                            f"{FIELD_LIMITS[column]:,}")
        bad = bad_character(value)
        if bad:
            problems.append(f"{where}: {column} holds a control character ({bad})")
    return problems


def _uid(value: str, column: str, problems: list[str], where: str) -> str | None:
    if not value:
        return None
    try:
        return normalize_uid(value)
    except BadUid as exc:
        problems.append(f"{where}: {column}: {exc}")
        return None


def _check_uids(found: list[tuple[int, str, str | None]], same_table: dict[str, str], other_table: dict[str, str],
                other_name: str, column: str, problems: list[str], source_ids: set[str]) -> None:
    seen: dict[str, tuple[int, str]] = {}
    for line, row_id, uid in found:
        if uid is None:
            continue
        if uid in seen:
            problems.append(f"line {line}: {column} {uid} is also on line {seen[uid][0]}")
            continue
        seen[uid] = (line, row_id)
        if uid in other_table:
            problems.append(f"line {line}: {column} {uid} is already the tag of {other_name} {other_table[uid]}")
        owner = same_table.get(uid)
        if owner is not None and owner != row_id and owner not in source_ids:
            problems.append(f"line {line}: {column} {uid} already belongs to {owner}")


def _parse(text: str, source: str, columns, required: str, uid_column: str, build,
           same_uids: dict[str, str], other_uids: dict[str, str], other_name: str, optional=()) -> list:
    """The checks every import shares: ids, the `required` column and UIDs.

    `build(row, where, uid, problems)` checks the table's own columns and
    returns the parsed row; it is kept only if it added no problem.
    """
    problems: list[str] = []
    parsed: list = []
    lines: dict[str, int] = {}
    uids: list[tuple[int, str, str | None]] = []
    for line, row, bad in _rows(text, source, columns, optional):
        where = f"line {line}"
        if row is None:
            problems.extend(bad)
            continue
        before = len(problems)
        if not row["id"]:
            problems.append(f"{where}: id is missing")
        elif row["id"] in lines:
            problems.append(f"{where}: id {row['id']} is also on line {lines[row['id']]}")
        if not row[required]:
            problems.append(f"{where}: {required} is missing")
        uid = _uid(row[uid_column], uid_column, problems, where)
        result = build(row, where, uid, problems)
        if row["id"] and row["id"] not in lines:
            lines[row["id"]] = line
        uids.append((line, row["id"], uid))
        if len(problems) == before:
            parsed.append(result)
    _check_uids(uids, same_uids, other_uids, other_name, uid_column, problems, set(lines))
    if problems:
        raise ImportRejected(source, problems)
    return parsed


def _patron(row: dict, where: str, uid: str | None, problems: list[str]) -> Patron | None:
    ptype = row["type"].lower() or "student"
    if ptype not in PATRON_TYPES:
        problems.append(f"{where}: type {row['type']!r} is not one of {', '.join(PATRON_TYPES)}")
    status = row["status"].lower() or "active"
    if status not in PATRON_STATUSES:
        problems.append(f"{where}: status {row['status']!r} is not one of {', '.join(PATRON_STATUSES)}")
    expires = None
    if row["expires"]:
        try:
            expires = date.fromisoformat(row["expires"])
        except ValueError:
            problems.append(f"{where}: expires {row['expires']!r} is not a date like 2027-07-31")
    return Patron(id=row["id"], name=row["name"], type=ptype, class_name=row["class"], card_uid=uid,
                  status=status, expires=expires)


def _item(row: dict, where: str, uid: str | None, problems: list[str]) -> Item:
    status = row["status"].lower() or "available"
    if status not in ITEM_STATUSES:
        problems.append(f"{where}: status {row['status']!r} is not one of {', '.join(ITEM_STATUSES)}")
    price = None
    if row.get("price"):
        try:
            price = parse_money(row["price"], "price")
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    return Item(id=row["id"], title=row["title"], author=row["author"], call_number=row["call_number"],
                tag_uid=uid, barcode=row["barcode"] or None, home=row["home"], status=status, price_cents=price)


def parse_patrons(text: str, source: str, patron_uids: dict[str, str] | None = None,
                  item_uids: dict[str, str] | None = None) -> list[Patron]:
    """Patrons from CSV text, or `ImportRejected` naming every bad row.

    `patron_uids` and `item_uids` map the UIDs already in use to their
    owners, so that a card never takes a UID a book has, nor another card's.
    """
    return _parse(text, source, PATRON_COLUMNS, "name", "card_uid", _patron, patron_uids or {}, item_uids or {},
                  "item")


def parse_items(text: str, source: str, item_uids: dict[str, str] | None = None,
                patron_uids: dict[str, str] | None = None) -> list[Item]:
    """Items from CSV text, or `ImportRejected` naming every bad row."""
    return _parse(text, source, ITEM_COLUMNS, "title", "tag_uid", _item, item_uids or {}, patron_uids or {},
                  "patron", ITEM_OPTIONAL)
