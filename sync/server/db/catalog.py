"""Patrons, items and rules: imports, edits, status changes, tags, each pulled by the kiosks."""

from __future__ import annotations

import json
import logging

from kiosk.core.uids import uids_in_use
from kiosk.domain.catalog import parse_items, parse_patrons
from kiosk.domain.errors import KioskError
from kiosk.domain.model import Policy, normalize_uid
from kiosk.domain.money import money_text
from kiosk.domain.policy import parse_policy, policy_to_table
from kiosk.domain.text import bad_character
from sync.server.db.audit import audit, audit_now
from sync.server.db.people import contains
from sync.server.db.schema import CentralError, iso, next_revs, utc_now
from sync.server.db.staging import apply_staged, stage

log = logging.getLogger("kiosk-central")


def uid_owners(db, kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """The UIDs in use by patrons or items (`kind`), then by the other table: what an import is checked against."""
    other = "items" if kind == "patrons" else "patrons"
    return uids_in_use(db, kind), uids_in_use(db, other)


def parse_csv(db, kind: str, text: str, source: str) -> list:
    """Patrons or items from CSV text, checked against the UIDs in use now (`ImportRejected`); nothing saved."""
    parse = parse_patrons if kind == "patrons" else parse_items
    return parse(text, source, *uid_owners(db, kind))


def import_csv(db, kind: str, text: str, source: str) -> int:
    """Import patrons or items from CSV text: all or nothing (`ImportRejected`)."""
    stage(db, kind, parse_csv(db, kind, text, source))
    return apply_staged(db, kind)


def set_rules(db, policy: Policy) -> None:
    """Store the circulation rules; every kiosk picks them up at its next pull."""
    with db.atomic():
        db.execute("INSERT OR REPLACE INTO rules (key, value, rev) VALUES ('policy', ?, ?)",
                   [json.dumps(policy_to_table(policy), sort_keys=True), next_revs(db, 1)])


def get_rules(db) -> Policy:
    """The circulation rules every kiosk pulls (the defaults while the stored ones are refused: `stored_rules`)."""
    return stored_rules(db)[0]


def stored_rules(db) -> tuple[Policy, str | None]:
    """The stored rules, and why they are refused if they are.

    Rules an older version stored unchecked and out of range are not used:
    the store works with the default rules until the librarian saves good
    ones on the rules page (which shows the reason), as each kiosk keeps its
    last good ones.
    """
    table = rules_table(db)
    if table is None:
        return Policy(), None
    try:
        return parse_policy(table), None
    except KioskError as exc:
        log.warning("the stored rules are refused, the defaults used until they are saved again: %s", exc)
        return Policy(), str(exc)


def rules_table(db) -> dict | None:
    """The stored rules as their table, unchecked (for the rules page to show rules it must refuse)."""
    row = db.execute("SELECT value FROM rules WHERE key = 'policy'").fetchone()
    return json.loads(row[0]) if row else None


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
    """Patrons or items whose id, name or title, class, UID or barcode contain `query` (its % and _ as letters)."""
    columns = ("id", "name", "class_name", "card_uid") if table == "patrons" else \
        ("id", "title", "author", "tag_uid", "barcode")
    where = " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns)
    like = contains(query)
    if table == "patrons":
        return list(db.query(f"SELECT id, name, type, class_name, card_uid, status, expires FROM patrons WHERE {where}"
                             " ORDER BY class_name, name LIMIT ?", [like] * len(columns) + [limit]))
    return list(db.query(f"SELECT id, title, author, call_number, tag_uid, barcode, home, status FROM items WHERE {where}"
                         " ORDER BY title LIMIT ?", [like] * len(columns) + [limit]))


def set_status(db, librarian: str, table: str, row_id: str, status: str, note: str) -> None:
    """Block or unblock a card, or put a book in repair, withdrawn, lost or available again; a register entry.

    Kiosks get the change at their next pull.
    """
    allowed = ("active", "blocked") if table == "patrons" else ("available", "repair", "withdrawn", "lost")
    if status not in allowed:
        raise CentralError(f"status {status!r} is not one of {', '.join(allowed)}")
    if bad_character(note):
        raise CentralError(f"the note holds a control character ({bad_character(note)})")
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
    uid = normalize_uid(uid)  # as an import would store it: a card number, never what a kiosk said
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
