"""The staff tasks in the kiosk's store: what a stocktake's count or a received book changes.

An `inventory` record of a book on loan closes the loan (the book is on the
shelf); a `rehome` record gives the book its new home, and keeps it over a
pulled copy of the catalog until the record is pushed. Called inside the
store's transactions. (The homes' names come with the pulled reading tables:
`kiosk.store.reading.homes`.)
"""

from __future__ import annotations

import json

from kiosk.domain.records import Record


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
