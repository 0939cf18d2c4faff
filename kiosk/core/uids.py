"""Which card and book tags are taken: the same question of the kiosk's store and the central store's."""

from __future__ import annotations


def uids_in_use(db, table: str) -> dict[str, str]:
    """UID -> owner id for `patrons` (card UIDs) or `items` (tag UIDs)."""
    column = "card_uid" if table == "patrons" else "tag_uid"
    return {r[0]: r[1] for r in db.execute(f"SELECT {column}, id FROM {table} WHERE {column} IS NOT NULL")}
