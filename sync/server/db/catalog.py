"""Patrons, items and rules: imports, edits, status changes, tags, each pulled by the kiosks."""

from __future__ import annotations

import json

from kiosk.core import pinyin
from kiosk.domain.catalog import parse_items, parse_patrons
from kiosk.domain.model import Item, Patron, Policy
from kiosk.domain.money import money_text
from kiosk.domain.policy import parse_policy, policy_to_table
from sync.server.db.audit import audit, audit_now
from sync.server.db.schema import CentralError, iso, next_revs, refresh_statistics, utc_now
from kiosk.core.uids import uids_in_use  # noqa: F401  (sync.server.db re-exports it)

LARGE_IMPORT = 100  # rows: after an import of at least this many, the query planner's statistics are refreshed


def _save(db, table: str, uid_column: str, rows: list[dict], since_column: str, stops) -> None:
    """Upsert `rows` by id with fresh change numbers; note when a row left service."""
    now = iso(utc_now())
    with db.atomic():
        ids = [r["id"] for r in rows]
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            db.execute(f"UPDATE {table} SET {uid_column} = NULL WHERE id IN ({','.join('?' * len(part))})", part)
        old = {r["id"]: r for r in db.query(f"SELECT id, status, {since_column} FROM {table}")} if rows else {}
        first = next_revs(db, len(rows)) if rows else 0
        for offset, row in enumerate(rows):
            before = old.get(row["id"])
            if stops(row["status"]):
                kept = before[since_column] if before and stops(before["status"]) else None
                row[since_column] = kept or now
            else:
                row[since_column] = None
            row["rev"] = first + offset
        db[table].upsert_all(rows, pk="id")


def save_patrons(db, patrons: list[Patron]) -> None:
    """Insert or update patrons by id, in one transaction; kiosks pull them."""
    rows = [{"id": p.id, "name": p.name, "type": p.type, "class_name": p.class_name, "card_uid": p.card_uid,
             "status": p.status, "expires": p.expires.isoformat() if p.expires else None} for p in patrons]
    _save(db, "patrons", "card_uid", rows, "blocked_since", lambda status: status == "blocked")


def save_items(db, items: list[Item]) -> None:
    """Insert or update items by id, in one transaction; kiosks pull them.

    A Chinese title and author get their pinyin initials (Find a book on a
    kiosk searches them); a book new to the store is stamped `added` (the
    idle screen's new books).
    """
    rows = [{"id": i.id, "title": i.title, "author": i.author, "call_number": i.call_number, "tag_uid": i.tag_uid,
             "barcode": i.barcode, "home": i.home, "status": i.status,
             "initials": pinyin.initials(i.title, i.author)} for i in items]
    with db.atomic():
        _save(db, "items", "tag_uid", rows, "unavailable_since", lambda status: status != "available")
        db.execute("UPDATE items SET added = ? WHERE added IS NULL", [iso(utc_now())])
        # A file without prices leaves the prices the books had.
        db.executemany("UPDATE items SET price_cents = ? WHERE id = ?",
                       [(i.price_cents, i.id) for i in items if i.price_cents is not None])


def import_csv(db, kind: str, text: str, source: str) -> int:
    """Import patrons or items from CSV text: all or nothing (`ImportRejected`)."""
    if kind == "patrons":
        parsed = parse_patrons(text, source, uids_in_use(db, "patrons"), uids_in_use(db, "items"))
        save_patrons(db, parsed)
    else:
        parsed = parse_items(text, source, uids_in_use(db, "items"), uids_in_use(db, "patrons"))
        save_items(db, parsed)
    if len(parsed) >= LARGE_IMPORT:
        refresh_statistics(db)
    return len(parsed)


def set_rules(db, policy: Policy) -> None:
    """Store the circulation rules; every kiosk picks them up at its next pull."""
    with db.atomic():
        db.execute("INSERT OR REPLACE INTO rules (key, value, rev) VALUES ('policy', ?, ?)",
                   [json.dumps(policy_to_table(policy), sort_keys=True), next_revs(db, 1)])


def get_rules(db) -> Policy:
    row = db.execute("SELECT value FROM rules WHERE key = 'policy'").fetchone()
    return parse_policy(json.loads(row[0])) if row else Policy()


def save_rules(db, librarian: str, policy: Policy) -> None:
    """The rules editor's save: stored, audited, and pulled by every kiosk at its next sync."""
    set_rules(db, policy)
    audit_now(db, librarian, "rules", "policy", json.dumps(policy_to_table(policy), sort_keys=True))


def all_rows(db, table: str) -> list[dict]:
    """Every patron or item, for export, in the columns of the CSV import."""
    if table == "patrons":
        return list(db.query("SELECT id, name, type, class_name AS class, card_uid, status, expires FROM patrons"
                             " ORDER BY id"))
    rows = list(db.query("SELECT id, title, author, call_number, tag_uid, barcode, home, status, price_cents"
                         " FROM items ORDER BY id"))
    for row in rows:
        row["price"] = money_text(row.pop("price_cents"))
    return rows


def find_rows(db, table: str, query: str, limit: int = 100) -> list[dict]:
    """Patrons or items whose id, name or title, class, UID or barcode contain `query`."""
    like = f"%{query.strip()}%"
    if table == "patrons":
        return list(db.query("SELECT id, name, type, class_name, card_uid, status, expires FROM patrons WHERE"
                             " id LIKE ? OR name LIKE ? OR class_name LIKE ? OR card_uid LIKE ? ORDER BY class_name,"
                             " name LIMIT ?", [like, like, like, like, limit]))
    return list(db.query("SELECT id, title, author, call_number, tag_uid, barcode, home, status FROM items WHERE"
                         " id LIKE ? OR title LIKE ? OR author LIKE ? OR tag_uid LIKE ? OR barcode LIKE ?"
                         " ORDER BY title LIMIT ?", [like, like, like, like, like, limit]))


def set_status(db, librarian: str, table: str, row_id: str, status: str, note: str) -> None:
    """Block or unblock a card, or put a book in repair, withdrawn, lost or available again; a register entry.

    Kiosks get the change at their next pull.
    """
    allowed = ("active", "blocked") if table == "patrons" else ("available", "repair", "withdrawn", "lost")
    if status not in allowed:
        raise CentralError(f"status {status!r} is not one of {', '.join(allowed)}")
    since_column = "blocked_since" if table == "patrons" else "unavailable_since"
    out_of_service = status in ("blocked", "repair", "withdrawn", "lost")
    with db.atomic():
        if db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [row_id]).fetchone() is None:
            raise CentralError(f"no {table[:-1]} with id {row_id!r}")
        db.execute(f"UPDATE {table} SET status = ?, {since_column} = CASE WHEN ? THEN COALESCE({since_column}, ?)"
                   f" ELSE NULL END, rev = ? WHERE id = ?",
                   [status, out_of_service, iso(utc_now()), next_revs(db, 1), row_id])
        audit(db, librarian, f"{table[:-1]} {status}", row_id, note)


def attach_uid(db, librarian: str, uid: str, kind: str, target_id: str) -> None:
    """Give a patron a card UID or an item a tag UID; kiosks get it at their next pull."""
    table, column = ("patrons", "card_uid") if kind == "patron" else ("items", "tag_uid")
    other_table, other_column = ("items", "tag_uid") if kind == "patron" else ("patrons", "card_uid")
    with db.atomic():
        if db.execute(f"SELECT 1 FROM {table} WHERE id = ?", [target_id]).fetchone() is None:
            raise CentralError(f"no {kind} with id {target_id!r}")
        holder = db.execute(f"SELECT id FROM {table} WHERE {column} = ?", [uid]).fetchone()
        other = db.execute(f"SELECT id FROM {other_table} WHERE {other_column} = ?", [uid]).fetchone()
        if holder or other:
            raise CentralError(f"UID {uid} already belongs to {(holder or other)[0]}")
        db.execute(f"UPDATE {table} SET {column} = ?, rev = ? WHERE id = ?", [uid, next_revs(db, 1), target_id])
        audit(db, librarian, f"attach {kind} tag", target_id, uid)
