"""The staff tasks in the kiosk's store: what a stocktake or a received book changes, and the homes' names.

An `inventory` record of a book on loan closes the loan (the book is on the
shelf); a `rehome` record gives the book its new home. The names of the homes
("Class 3A", "三年级一班") come from the central store with each pull, so the
screen never shows a home's id. Called inside the store's transactions.
"""

from __future__ import annotations

import json

from kiosk.domain.records import Record


def create_table(db) -> None:
    """The homes the central store has named: id and the name people know it by."""
    db.execute("CREATE TABLE homes (id TEXT PRIMARY KEY, name TEXT NOT NULL)")


def home_names(db) -> dict[str, str]:
    """Home id -> its name, for every home the central store has named."""
    return dict(db.execute("SELECT id, name FROM homes ORDER BY id").fetchall())


def save_homes(db, rows: list[dict]) -> None:
    """Insert or rename homes by id (rows of a page of changes: `id`, `name`)."""
    for row in rows:
        db.execute("INSERT INTO homes (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                   [row["id"], row["name"]])


def apply_record(db, record: Record) -> None:
    """What an `inventory` or `rehome` record does to the loans and items."""
    if record.kind == "inventory" and record.details.get("on_loan"):
        db.execute("DELETE FROM loans WHERE item_id = ?", [record.item_id])
    elif record.kind == "rehome":
        db.execute("UPDATE items SET home = ? WHERE id = ?", [record.details["to"], record.item_id])


def reapply_unpushed(db, kiosk_id: str, pushed: int) -> None:
    """Books received here and not pushed yet keep their new home over a pulled copy of the catalog."""
    for item_id, details in db.execute("SELECT item_id, details FROM log WHERE kiosk_id = ? AND seq > ?"
                                       " AND kind = 'rehome' ORDER BY seq", [kiosk_id, pushed]).fetchall():
        db.execute("UPDATE items SET home = ? WHERE id = ?", [json.loads(details)["to"], item_id])
