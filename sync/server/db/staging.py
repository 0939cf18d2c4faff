"""Saving patrons and items in bulk: staged in a temporary table, then applied by one statement.

Staging is most of the work (every row handed to SQLite) and takes no lock
on the database, since a temporary table belongs to its connection alone;
applying is one INSERT ... SELECT with an upsert, done inside SQLite, so
the write lock that kiosks' pushes wait on is held for a fraction of a
second even for 100,000 rows. Both must run on the same connection.
"""

from __future__ import annotations

from kiosk.core import pinyin
from kiosk.domain.model import Item, Patron
from sync.protocol import ITEM_FIELDS, PATRON_FIELDS
from sync.server.db.schema import iso, next_revs, refresh_statistics, utc_now

# Per table: its columns, its UID column, the column that notes when a row
# left service, and when a row is out of service.
TABLES = {
    "patrons": (PATRON_FIELDS, "card_uid", "blocked_since", "{}.status = 'blocked'"),
    "items": (ITEM_FIELDS, "tag_uid", "unavailable_since", "{}.status != 'available'"),
}
# Staged beside the columns but not pulled by kiosks: a file without prices leaves the prices the books had.
EXTRA = {"patrons": "", "items": ", price_cents INTEGER"}
LARGE_IMPORT = 100  # rows: after an import of at least this many, the query planner's statistics are refreshed


def _values(row: Patron | Item) -> tuple:
    if isinstance(row, Patron):
        return (row.id, row.name, row.type, row.class_name, row.card_uid, row.status,
                row.expires.isoformat() if row.expires else None)
    # A Chinese title and author get their pinyin initials (Find a book on a kiosk searches them).
    return (row.id, row.title, row.author, row.call_number, row.tag_uid, row.barcode, row.home, row.status,
            pinyin.initials(row.title, row.author), row.price_cents)


def stage(db, table: str, rows: list) -> None:
    """Put parsed patrons or items (`table`) in this connection's staging table, in file order."""
    columns = TABLES[table][0]
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS staged_{table} (n INTEGER PRIMARY KEY, "
               + ", ".join(f"{c} TEXT" for c in columns) + EXTRA[table] + ")")
    width = len(columns) + 1 + (table == "items")
    with db.atomic():
        db.execute(f"DELETE FROM staged_{table}")
        db.executemany(f"INSERT INTO staged_{table} VALUES ({', '.join('?' * width)})",
                            ((n, *_values(row)) for n, row in enumerate(rows)))


def apply_staged(db, table: str) -> int:
    """Insert or update the staged rows by id in one transaction, with fresh change numbers; returns how many.

    A row the file leaves as it was is not written at all, so kiosks do not
    pull it again. A UID that moves is taken off its old row first, so two
    rows may swap tags in one file. A row out of service keeps the time it
    left (or now). A book new to the store is stamped `added` (the idle
    screen's new books), and a book's price changes only where the file
    gives one.
    """
    columns, uid, since, stops = TABLES[table]
    count = db.execute(f"SELECT COUNT(*) FROM staged_{table}").fetchone()[0]
    if not count:
        return 0
    # In DO UPDATE, `{table}.` is the row as it was and `excluded.` the staged one.
    kept = (f"CASE WHEN {stops.format('excluded')} THEN COALESCE(CASE WHEN {stops.format(table)}"
            f" THEN {table}.{since} END, excluded.{since}) END")
    updates = ", ".join([f"{c} = excluded.{c}" for c in columns[1:]] + [f"{since} = {kept}", "rev = excluded.rev"])
    changed = " OR ".join(f"{table}.{c} IS NOT excluded.{c}" for c in columns[1:])
    with db.atomic():
        db.execute(f"UPDATE {table} SET {uid} = NULL WHERE id IN (SELECT s.id FROM staged_{table} s"
                   f" JOIN {table} o ON o.id = s.id WHERE o.{uid} IS NOT NULL AND o.{uid} IS NOT s.{uid})")
        first = next_revs(db, count)
        db.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, {since}, rev)"
            f" SELECT {', '.join('s.' + c for c in columns)}, CASE WHEN {stops.format('s')} THEN ? END, ? + s.n"
            f" FROM staged_{table} s WHERE true ON CONFLICT(id) DO UPDATE SET {updates} WHERE {changed}",
            [iso(utc_now()), first])
        if table == "items":
            db.execute("UPDATE items SET added = ? WHERE added IS NULL", [iso(utc_now())])
            db.execute("UPDATE items SET price_cents = (SELECT s.price_cents FROM staged_items s"
                       " WHERE s.id = items.id) WHERE id IN (SELECT id FROM staged_items"
                       " WHERE price_cents IS NOT NULL)")
    db.execute(f"DELETE FROM staged_{table}")
    if count >= LARGE_IMPORT:
        refresh_statistics(db)
    return count


def save_patrons(db, patrons: list[Patron]) -> None:
    """Insert or update patrons by id, in one transaction; kiosks pull them."""
    stage(db, "patrons", patrons)
    apply_staged(db, "patrons")


def save_items(db, items: list[Item]) -> None:
    """Insert or update items by id, in one transaction; kiosks pull them."""
    stage(db, "items", items)
    apply_staged(db, "items")
