"""The kiosk's copy of the catalog from a CSV import: patrons and items saved by id, UIDs kept unique."""

from __future__ import annotations

from kiosk.core import pinyin
from kiosk.domain.model import Item, Patron
from kiosk.core.uids import uids_in_use  # noqa: F401  (kiosk.store re-exports it)


def patron_row(p: Patron) -> dict:
    return {"id": p.id, "name": p.name, "type": p.type, "class_name": p.class_name, "card_uid": p.card_uid,
            "status": p.status, "expires": p.expires.isoformat() if p.expires else None}


def item_row(i: Item) -> dict:
    return {"id": i.id, "title": i.title, "author": i.author, "call_number": i.call_number,
            "tag_uid": i.tag_uid, "barcode": i.barcode, "home": i.home, "status": i.status,
            "initials": pinyin.initials(i.title, i.author)}


def _save(db, table: str, uid_column: str, rows: list[dict]) -> None:
    """Insert or update `rows` of `table` by id, all in one transaction."""
    with db.atomic():
        ids = [r["id"] for r in rows]
        # Clear the UIDs first so that two rows may swap tags in one file.
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            db.execute(f"UPDATE {table} SET {uid_column} = NULL WHERE id IN ({','.join('?' * len(part))})", part)
        db[table].upsert_all(rows, pk="id")


def save_patrons(db, patrons: list[Patron]) -> None:
    """Insert or update patrons by id, all in one transaction."""
    _save(db, "patrons", "card_uid", [patron_row(p) for p in patrons])


def save_items(db, items: list[Item]) -> None:
    """Insert or update items by id, all in one transaction."""
    _save(db, "items", "tag_uid", [item_row(i) for i in items])
