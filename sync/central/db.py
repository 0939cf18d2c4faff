"""The central store's storage: every line of its SQL is in this module.

SQLite through sqlite-utils 4 (WAL, `synchronous=FULL`, named migrations), so
that a PostgreSQL backend can follow by reimplementing these functions.
Functions take the database and return dicts. Tables: docs/sync-api.md.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

import sqlite_utils
from sqlite_utils.migrations import Migrations

from kiosk.config import parse_policy, policy_to_table
from kiosk.errors import KioskError
from kiosk.imports import parse_items, parse_patrons
from kiosk.model import Item, Patron, Policy
from kiosk.store import open_durable
from sync.central import merge

migrations = Migrations("central")

RECORD_FIELDS = ("kind", "at", "trusted", "boot_id", "monotonic", "patron_id", "item_id", "details", "flagged")
PATRON_FIELDS = ("id", "name", "type", "class_name", "card_uid", "status", "expires")
ITEM_FIELDS = ("id", "title", "author", "call_number", "tag_uid", "barcode", "home", "status")
LOAN_FIELDS = ("item_id", "patron_id", "due", "checked_out", "renewals")


@migrations(name="0001_tables")
def _tables(db: sqlite_utils.Database) -> None:
    db.executescript("""
    CREATE TABLE kiosks (id TEXT PRIMARY KEY, name TEXT, token_hash TEXT NOT NULL UNIQUE, created TEXT,
        last_seen TEXT, last_sync TEXT, acked_seq INTEGER NOT NULL DEFAULT 0, pending INTEGER,
        clock_offset REAL, boot_id TEXT, sent_monotonic REAL, server_time_at_push TEXT, reader_ok INTEGER,
        version TEXT, last_error TEXT, status TEXT);
    CREATE TABLE boots (kiosk_id TEXT NOT NULL, boot_id TEXT NOT NULL, server_time TEXT NOT NULL,
        monotonic REAL NOT NULL, PRIMARY KEY (kiosk_id, boot_id)) WITHOUT ROWID;
    CREATE TABLE log (kiosk_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,
        corrected_at TEXT NOT NULL, trusted INTEGER, boot_id TEXT, monotonic REAL, patron_id TEXT,
        item_id TEXT, details TEXT, flagged INTEGER, received_at TEXT,
        PRIMARY KEY (kiosk_id, seq)) WITHOUT ROWID;
    CREATE INDEX log_item ON log(item_id, corrected_at);
    CREATE INDEX log_corrected ON log(corrected_at);
    CREATE INDEX log_patron ON log(patron_id, corrected_at);
    CREATE TABLE patrons (id TEXT PRIMARY KEY, name TEXT, type TEXT, class_name TEXT, card_uid TEXT,
        status TEXT, expires TEXT, blocked_since TEXT, rev INTEGER NOT NULL);
    CREATE UNIQUE INDEX patrons_card_uid ON patrons(card_uid) WHERE card_uid IS NOT NULL;
    CREATE INDEX patrons_rev ON patrons(rev);
    CREATE TABLE items (id TEXT PRIMARY KEY, title TEXT, author TEXT, call_number TEXT, tag_uid TEXT,
        barcode TEXT, home TEXT, status TEXT, unavailable_since TEXT, rev INTEGER NOT NULL);
    CREATE UNIQUE INDEX items_tag_uid ON items(tag_uid) WHERE tag_uid IS NOT NULL;
    CREATE INDEX items_rev ON items(rev);
    CREATE TABLE loans (item_id TEXT PRIMARY KEY, patron_id TEXT, due TEXT, checked_out TEXT,
        renewals INTEGER, kiosk_id TEXT, seq INTEGER, rev INTEGER NOT NULL);
    CREATE INDEX loans_rev ON loans(rev);
    CREATE INDEX loans_patron ON loans(patron_id);
    CREATE TABLE loans_removed (item_id TEXT PRIMARY KEY, rev INTEGER NOT NULL);
    CREATE INDEX loans_removed_rev ON loans_removed(rev);
    CREATE TABLE merge_flags (kiosk_id TEXT NOT NULL, seq INTEGER NOT NULL, item_id TEXT, reason TEXT NOT NULL,
        detail TEXT, resolution TEXT, resolved_by TEXT, resolved_at TEXT, PRIMARY KEY (kiosk_id, seq));
    CREATE TABLE rules (key TEXT PRIMARY KEY, value TEXT NOT NULL, rev INTEGER NOT NULL);
    CREATE TABLE changes (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL);
    INSERT INTO changes (id, rev) VALUES (1, 0);
    """)


class CentralError(KioskError):
    """The central store cannot do what was asked; the message says why."""


class Conflict(CentralError):
    """A record already held under the same identity with other content."""


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the central database, durable and migrated."""
    return open_durable(path, migrations, busy_ms=10000)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _next_revs(db, count: int) -> int:
    """Reserve `count` change numbers; returns the first."""
    first = db.execute("UPDATE changes SET rev = rev + ? WHERE id = 1 RETURNING rev", [count]).fetchone()[0]
    return first - count + 1


# ------------------------------------------------------------ kiosks


def _hash(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough (passwords are not).
    return hashlib.sha256(token.encode()).hexdigest()


def add_kiosk(db, kiosk_id: str, name: str | None = None, replace: bool = False) -> str:
    """Register a kiosk (or give it a new token with `replace`); returns the token."""
    if not kiosk_id or not all(c.isalnum() or c in "-_." for c in kiosk_id):
        raise CentralError(f"kiosk id {kiosk_id!r}: use letters, digits, '-', '_' or '.'")
    token = secrets.token_urlsafe(32)
    with db.atomic():
        exists = db.execute("SELECT 1 FROM kiosks WHERE id = ?", [kiosk_id]).fetchone()
        if exists and not replace:
            raise CentralError(f"kiosk {kiosk_id} is already registered (--new-token gives it a new token)")
        if exists:
            db.execute("UPDATE kiosks SET token_hash = ? WHERE id = ?", [_hash(token), kiosk_id])
        else:
            db.execute("INSERT INTO kiosks (id, name, token_hash, created) VALUES (?, ?, ?, ?)",
                       [kiosk_id, name or kiosk_id, _hash(token), iso(utc_now())])
    return token


def kiosk_for_token(db, token: str) -> Optional[str]:
    row = db.execute("SELECT id FROM kiosks WHERE token_hash = ?", [_hash(token)]).fetchone()
    return row[0] if row else None


def kiosks(db) -> list[dict]:
    """Every kiosk with its health facts (no token hashes)."""
    rows = db.query("SELECT id, name, created, last_seen, last_sync, acked_seq, pending, clock_offset, reader_ok,"
                    " version, last_error, status FROM kiosks ORDER BY id")
    out = []
    for row in rows:
        row["status"] = json.loads(row["status"] or "{}")
        row["reader_ok"] = None if row["reader_ok"] is None else bool(row["reader_ok"])
        out.append(row)
    return out


# ------------------------------------------------------------ push


def _record_row(kiosk_id: str, record: dict) -> dict:
    return {
        "kiosk_id": kiosk_id, "seq": record["seq"], "kind": record["kind"], "at": record["at"],
        "trusted": int(bool(record["trusted"])), "boot_id": record.get("boot_id"),
        "monotonic": record.get("monotonic"), "patron_id": record.get("patron_id"),
        "item_id": record.get("item_id"),
        "details": json.dumps(record.get("details") or {}, sort_keys=True, ensure_ascii=False),
        "flagged": int(bool(record.get("flagged"))),
    }


def _same(held: dict, new: dict) -> bool:
    def norm(row):
        out = {k: row[k] for k in RECORD_FIELDS}
        out["at"] = datetime.fromisoformat(out["at"])
        out["details"] = json.loads(out["details"] or "{}")
        return out
    return norm(held) == norm(new)


def push(db, kiosk_id: str, batch: dict, now: datetime | None = None) -> dict:
    """Store a batch of one kiosk's records exactly once, merge, and answer.

    `batch` is the push body of docs/sync-api.md (already validated, times
    as ISO strings). One transaction: all of it or, on a `Conflict`, none.
    """
    now = now or utc_now()
    sent_at = datetime.fromisoformat(batch["sent_at"])
    offset = (now - sent_at).total_seconds()
    rows = [_record_row(kiosk_id, r) for r in batch["records"]]
    stored = duplicates = 0
    with db.atomic():
        db.execute("INSERT OR REPLACE INTO boots (kiosk_id, boot_id, server_time, monotonic) VALUES (?, ?, ?, ?)",
                   [kiosk_id, batch["boot_id"], iso(now), batch["monotonic"]])
        anchors = {r["boot_id"]: (datetime.fromisoformat(r["server_time"]), r["monotonic"])
                   for r in db.query("SELECT boot_id, server_time, monotonic FROM boots WHERE kiosk_id = ?",
                                     [kiosk_id])}
        touched: set[str] = set()
        for row in rows:
            held = db.execute("SELECT * FROM log WHERE kiosk_id = ? AND seq = ?", [kiosk_id, row["seq"]])
            held_row = held.fetchone()
            if held_row is not None:
                held_dict = dict(zip([c[0] for c in held.description], held_row))
                if not _same(held_dict, row):
                    raise Conflict(f"record {kiosk_id} #{row['seq']} is already held with other content")
                duplicates += 1
                continue
            at = datetime.fromisoformat(row["at"])
            row["corrected_at"] = iso(merge.corrected_time(at, bool(row["trusted"]), row["boot_id"],
                                                           row["monotonic"], anchors, offset))
            row["received_at"] = iso(now)
            if row["patron_id"]:
                found = db.execute("SELECT class_name FROM patrons WHERE id = ?", [row["patron_id"]]).fetchone()
                row["class_name"] = found[0] if found else None
            db["log"].insert(row)
            stored += 1
            if row["kind"] in merge.LOAN_KINDS and row["item_id"]:
                touched.add(row["item_id"])
        for item_id in sorted(touched):
            _remerge_item(db, item_id)
        acked = _advance_acked(db, kiosk_id)
        status = batch.get("status") or {}
        db.execute(
            "UPDATE kiosks SET last_seen = ?, last_sync = ?, acked_seq = ?, pending = ?, clock_offset = ?,"
            " boot_id = ?, sent_monotonic = ?, server_time_at_push = ?, reader_ok = ?, version = ?,"
            " last_error = ?, status = ? WHERE id = ?",
            [iso(now), iso(now), acked, status.get("pending"), offset, batch["boot_id"], batch["monotonic"],
             iso(now), None if status.get("reader_ok") is None else int(bool(status["reader_ok"])),
             status.get("version"), status.get("last_error"), json.dumps(status, sort_keys=True), kiosk_id])
    return {"acked_seq": acked, "stored": stored, "duplicates": duplicates, "server_time": iso(now),
            "clock_offset": round(offset, 3)}


def _advance_acked(db, kiosk_id: str) -> int:
    """The highest sequence number held without a gap from 1."""
    acked = db.execute("SELECT acked_seq FROM kiosks WHERE id = ?", [kiosk_id]).fetchone()[0]
    for (seq,) in db.execute("SELECT seq FROM log WHERE kiosk_id = ? AND seq > ? ORDER BY seq", [kiosk_id, acked]):
        if seq != acked + 1:
            break
        acked = seq
    return acked


def _when(text: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(text) if text else None


def _remerge_item(db, item_id: str) -> None:
    """Replay every loan record of one item; update its loan and its flags."""
    recs = []
    # A record the librarian reversed is kept in the log but no longer applied.
    for row in db.query("SELECT kiosk_id, seq, kind, corrected_at, patron_id, details FROM log"
                        " WHERE item_id = ? AND kind IN ('checkout', 'return', 'renew', 'not_on_loan')"
                        " AND NOT EXISTS (SELECT 1 FROM merge_flags m WHERE m.kiosk_id = log.kiosk_id"
                        " AND m.seq = log.seq AND m.resolution = 'reverse')", [item_id]):
        details = json.loads(row["details"] or "{}")
        recs.append(merge.Rec(row["kiosk_id"], row["seq"], row["kind"], datetime.fromisoformat(row["corrected_at"]),
                              row["patron_id"], details.get("due"), details.get("renewals")))
    patron_ids = {r.patron_id for r in recs if r.patron_id}
    patrons = {}
    for pid in patron_ids:
        row = db.execute("SELECT blocked_since, expires FROM patrons WHERE id = ?", [pid]).fetchone()
        if row:
            patrons[pid] = merge.PatronFacts(_when(row[0]), date.fromisoformat(row[1]) if row[1] else None)
    item_row = db.execute("SELECT unavailable_since FROM items WHERE id = ?", [item_id]).fetchone()
    result = merge.replay(recs, patrons, merge.ItemFacts(_when(item_row[0]) if item_row else None))
    _set_loan(db, item_id, result.loan)
    # Flags not yet resolved are recomputed; a librarian's resolution stays.
    db.execute("DELETE FROM merge_flags WHERE item_id = ? AND resolution IS NULL", [item_id])
    for (kiosk_id, seq), (reason, detail) in result.flags.items():
        db.execute("INSERT OR IGNORE INTO merge_flags (kiosk_id, seq, item_id, reason, detail) VALUES (?, ?, ?, ?, ?)",
                   [kiosk_id, seq, item_id, reason, detail])


def _set_loan(db, item_id: str, loan: Optional[merge.MergedLoan]) -> None:
    """Store an item's merged loan (or its absence) under a fresh change number.

    Always a fresh one, even when nothing changed here: the kiosk that sent
    the records may hold a loan the merge has since undone (a book it lent,
    returned meanwhile at a kiosk that had not heard of the loan), and it
    learns the outcome only from a change after its cursor.
    """
    rev = _next_revs(db, 1)
    if loan is None:
        db.execute("DELETE FROM loans WHERE item_id = ?", [item_id])
        db.execute("INSERT OR REPLACE INTO loans_removed (item_id, rev) VALUES (?, ?)", [item_id, rev])
        return
    db.execute("INSERT OR REPLACE INTO loans (item_id, patron_id, due, checked_out, renewals, kiosk_id, seq, rev)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [item_id, loan.patron_id, loan.due, iso(loan.checked_out), loan.renewals, loan.kiosk_id, loan.seq,
                rev])
    db.execute("DELETE FROM loans_removed WHERE item_id = ?", [item_id])


def remerge_all(db) -> int:
    """Replay every item with loan records (after patrons or items changed). Returns the count."""
    items = [r[0] for r in db.execute("SELECT DISTINCT item_id FROM log WHERE item_id IS NOT NULL"
                                      " AND kind IN ('checkout', 'return', 'renew', 'not_on_loan')")]
    with db.atomic():
        for item_id in items:
            _remerge_item(db, item_id)
    return len(items)


# ------------------------------------------------------------ pull


def changes(db, since: int, limit: int) -> dict:
    """Rows changed after change number `since`, at most `limit` in all."""
    queries = {
        "patrons": f"SELECT {', '.join(PATRON_FIELDS)}, rev FROM patrons WHERE rev > ? ORDER BY rev LIMIT ?",
        "items": f"SELECT {', '.join(ITEM_FIELDS)}, rev FROM items WHERE rev > ? ORDER BY rev LIMIT ?",
        "loans": f"SELECT {', '.join(LOAN_FIELDS)}, rev FROM loans WHERE rev > ? ORDER BY rev LIMIT ?",
        "loans_removed": "SELECT item_id, rev FROM loans_removed WHERE rev > ? ORDER BY rev LIMIT ?",
        "rules": "SELECT key, value, rev FROM rules WHERE rev > ? ORDER BY rev LIMIT ?",
    }
    found: list[tuple[int, str, dict]] = []
    with db.atomic():  # one snapshot for every table
        for table, sql in queries.items():
            found.extend((row["rev"], table, row) for row in db.query(sql, [since, limit + 1]))
    found.sort(key=lambda t: t[0])
    more = len(found) > limit
    found = found[:limit]
    out: dict[str, Any] = {"patrons": [], "items": [], "loans": [], "loans_removed": [], "rules": None}
    for rev, table, row in found:
        row.pop("rev")
        if table == "loans_removed":
            out["loans_removed"].append(row["item_id"])
        elif table == "rules":
            out["rules"] = json.loads(row["value"])
        else:
            out[table].append(row)
    out["cursor"] = str(found[-1][0] if found else since)
    out["more"] = more
    return out


# ------------------------------------------------------------ patrons, items, rules


def uids_in_use(db, table: str) -> dict[str, str]:
    column = "card_uid" if table == "patrons" else "tag_uid"
    return {r[0]: r[1] for r in db.execute(f"SELECT {column}, id FROM {table} WHERE {column} IS NOT NULL")}


def _save(db, table: str, uid_column: str, rows: list[dict], since_column: str, stops) -> None:
    """Upsert `rows` by id with fresh change numbers; note when a row left service."""
    now = iso(utc_now())
    with db.atomic():
        ids = [r["id"] for r in rows]
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            db.execute(f"UPDATE {table} SET {uid_column} = NULL WHERE id IN ({','.join('?' * len(part))})", part)
        old = {r["id"]: r for r in db.query(f"SELECT id, status, {since_column} FROM {table}")} if rows else {}
        first = _next_revs(db, len(rows)) if rows else 0
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
    """Insert or update items by id, in one transaction; kiosks pull them."""
    rows = [{"id": i.id, "title": i.title, "author": i.author, "call_number": i.call_number, "tag_uid": i.tag_uid,
             "barcode": i.barcode, "home": i.home, "status": i.status} for i in items]
    _save(db, "items", "tag_uid", rows, "unavailable_since", lambda status: status != "available")


def import_csv(db, kind: str, text: str, source: str) -> int:
    """Import patrons or items from CSV text: all or nothing (`ImportRejected`)."""
    if kind == "patrons":
        parsed = parse_patrons(text, source, uids_in_use(db, "patrons"), uids_in_use(db, "items"))
        save_patrons(db, parsed)
    else:
        parsed = parse_items(text, source, uids_in_use(db, "items"), uids_in_use(db, "patrons"))
        save_items(db, parsed)
    return len(parsed)


def set_rules(db, policy: Policy) -> None:
    """Store the circulation rules; every kiosk picks them up at its next pull."""
    with db.atomic():
        db.execute("INSERT OR REPLACE INTO rules (key, value, rev) VALUES ('policy', ?, ?)",
                   [json.dumps(policy_to_table(policy), sort_keys=True), _next_revs(db, 1)])


def get_rules(db) -> Policy:
    row = db.execute("SELECT value FROM rules WHERE key = 'policy'").fetchone()
    return parse_policy(json.loads(row[0])) if row else Policy()


# ------------------------------------------------------------ reports


def current_loans(db, today: date) -> list[dict]:
    """Every current loan with its patron, class, title and days overdue."""
    rows = db.query(
        "SELECT loans.item_id, items.title, loans.patron_id, patrons.name AS patron_name, patrons.class_name,"
        " loans.due, loans.checked_out, loans.renewals, loans.kiosk_id FROM loans"
        " LEFT JOIN items ON items.id = loans.item_id LEFT JOIN patrons ON patrons.id = loans.patron_id"
        " ORDER BY patrons.class_name, patrons.name, loans.due")
    out = []
    for row in rows:
        row["days_overdue"] = max(0, (today - date.fromisoformat(row["due"])).days) if row["due"] else 0
        out.append(row)
    return out


def log_records(db, limit: Optional[int] = None) -> Iterable[dict]:
    """The merged log in merge order."""
    sql = ("SELECT kiosk_id, seq, kind, at, corrected_at, trusted, patron_id, item_id, details, flagged"
           " FROM log ORDER BY corrected_at, kiosk_id, seq")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    for row in db.query(sql):
        row["trusted"], row["flagged"] = bool(row["trusted"]), bool(row["flagged"])
        yield row


def flagged(db) -> list[dict]:
    """Records for the librarian: flagged by the merge, or by the kiosk itself."""
    return list(db.query(
        "SELECT log.kiosk_id, log.seq, log.kind, log.corrected_at, log.patron_id, log.item_id,"
        " COALESCE(merge_flags.reason, 'kiosk') AS reason, merge_flags.detail, merge_flags.resolution"
        " FROM log LEFT JOIN merge_flags ON merge_flags.kiosk_id = log.kiosk_id AND merge_flags.seq = log.seq"
        " WHERE merge_flags.seq IS NOT NULL OR log.flagged"
        " ORDER BY log.corrected_at, log.kiosk_id, log.seq"))


# ---- librarian pages


@migrations(name="pages_0001_librarians")
def _librarians(db: sqlite_utils.Database) -> None:
    db.executescript("""
    CREATE TABLE librarians (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created TEXT NOT NULL);
    CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, librarian TEXT NOT NULL, csrf TEXT NOT NULL,
        expires TEXT NOT NULL);
    CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, librarian TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT, detail TEXT);
    """)


@migrations(name="pages_0002_log_indexes")
def _log_indexes(db: sqlite_utils.Database) -> None:
    # The log page filters by kiosk or by class and shows the newest first:
    # one index each, in that order, so a page reads 50 rows, not the log.
    # A record keeps the class its patron was in when it was pushed.
    db.executescript("""
    ALTER TABLE log ADD COLUMN class_name TEXT;
    UPDATE log SET class_name = (SELECT class_name FROM patrons WHERE patrons.id = log.patron_id)
        WHERE patron_id IS NOT NULL;
    CREATE INDEX log_kiosk_time ON log(kiosk_id, corrected_at, seq);
    CREATE INDEX log_class_time ON log(class_name, corrected_at, kiosk_id, seq);
    CREATE INDEX log_kind_time ON log(kind, corrected_at, kiosk_id, seq);
    """)


def set_librarian(db, name: str, password_hash: str) -> None:
    with db.atomic():
        db.execute("INSERT INTO librarians (name, password_hash, created) VALUES (?, ?, ?)"
                   " ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash",
                   [name, password_hash, iso(utc_now())])
        db.execute("DELETE FROM sessions WHERE librarian = ?", [name])  # a new password ends old sessions


def librarian_hash(db, name: str) -> Optional[str]:
    row = db.execute("SELECT password_hash FROM librarians WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def start_session(db, id_hash: str, librarian: str, csrf: str, expires: datetime) -> None:
    with db.atomic():
        db.execute("DELETE FROM sessions WHERE expires < ?", [iso(utc_now())])
        db.execute("INSERT INTO sessions (id_hash, librarian, csrf, expires) VALUES (?, ?, ?, ?)",
                   [id_hash, librarian, csrf, iso(expires)])


def session(db, id_hash: str) -> Optional[dict]:
    row = db.execute("SELECT librarian, csrf, expires FROM sessions WHERE id_hash = ?", [id_hash]).fetchone()
    if row is None or datetime.fromisoformat(row[2]) < utc_now():
        return None
    return {"librarian": row[0], "csrf": row[1]}


def end_session(db, id_hash: str) -> None:
    with db.atomic():
        db.execute("DELETE FROM sessions WHERE id_hash = ?", [id_hash])


def audit(db, librarian: str, action: str, target: str, detail: str = "") -> None:
    """The registers: every change a librarian makes, with who and when (inside the caller's transaction)."""
    db.execute("INSERT INTO audit (at, librarian, action, target, detail) VALUES (?, ?, ?, ?, ?)",
               [iso(utc_now()), librarian, action, target, detail])


LOG_FILTERS = {
    "since": "log.corrected_at >= ?", "until": "log.corrected_at < ?", "kiosk": "log.kiosk_id = ?",
    "class": "log.class_name = ?", "patron": "log.patron_id = ?", "item": "log.item_id = ?",
    "kind": "log.kind = ?",
}


def browse_log(db, filters: dict, before: Optional[tuple] = None, limit: int = 50) -> list[dict]:
    """One page of the merged log, newest first, filtered; `before` is the last row's key of the page before."""
    where, params = [], []
    for key, clause in LOG_FILTERS.items():
        if filters.get(key):
            where.append(clause)
            params.append(filters[key])
    if filters.get("flagged"):
        where.append("(log.flagged OR EXISTS (SELECT 1 FROM merge_flags m WHERE m.kiosk_id = log.kiosk_id"
                     " AND m.seq = log.seq))")
    if before is not None:
        where.append("(log.corrected_at, log.kiosk_id, log.seq) < (?, ?, ?)")
        params += list(before)
    sql = ("SELECT log.kiosk_id, log.seq, log.kind, log.corrected_at, log.trusted, log.patron_id,"
           " patrons.name AS patron_name, log.class_name, log.item_id, items.title, log.details, log.flagged,"
           " (SELECT reason FROM merge_flags m WHERE m.kiosk_id = log.kiosk_id AND m.seq = log.seq) AS reason"
           " FROM log LEFT JOIN patrons ON patrons.id = log.patron_id LEFT JOIN items ON items.id = log.item_id"
           + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY log.corrected_at DESC, log.kiosk_id DESC, log.seq DESC LIMIT ?")
    return list(db.query(sql, params + [limit]))


def unknown_tags(db, limit: int = 200) -> list[dict]:
    """UIDs tapped recently that match no patron and no item, with the kiosk and the last time."""
    return list(db.query(
        "SELECT json_extract(details, '$.uid') AS uid, kiosk_id, MAX(corrected_at) AS seen, COUNT(*) AS taps"
        " FROM log WHERE kind = 'unknown_tag' AND json_extract(details, '$.uid') IS NOT NULL"
        " AND json_extract(details, '$.uid') NOT IN (SELECT card_uid FROM patrons WHERE card_uid IS NOT NULL)"
        " AND json_extract(details, '$.uid') NOT IN (SELECT tag_uid FROM items WHERE tag_uid IS NOT NULL)"
        " GROUP BY uid ORDER BY seen DESC LIMIT ?", [limit]))


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
        db.execute(f"UPDATE {table} SET {column} = ?, rev = ? WHERE id = ?", [uid, _next_revs(db, 1), target_id])
        audit(db, librarian, f"attach {kind} tag", target_id, uid)


def resolve_flag(db, librarian: str, kiosk_id: str, seq: int, resolution: str) -> None:
    """The librarian's answer to a flagged record: accept, reverse, or mark the book lost; logged."""
    if resolution not in ("accept", "reverse", "lost"):
        raise CentralError(f"resolution {resolution!r} is not one of accept, reverse, lost")
    with db.atomic():
        row = db.execute("SELECT kind, item_id, patron_id FROM log WHERE kiosk_id = ? AND seq = ?",
                         [kiosk_id, seq]).fetchone()
        if row is None:
            raise CentralError(f"no record {kiosk_id} #{seq}")
        kind, item_id, _ = row
        db.execute("INSERT INTO merge_flags (kiosk_id, seq, item_id, reason, detail) VALUES (?, ?, ?, 'kiosk', '')"
                   " ON CONFLICT(kiosk_id, seq) DO NOTHING", [kiosk_id, seq, item_id])
        db.execute("UPDATE merge_flags SET resolution = ?, resolved_by = ?, resolved_at = ? WHERE kiosk_id = ?"
                   " AND seq = ?", [resolution, librarian, iso(utc_now()), kiosk_id, seq])
        if resolution == "reverse" and item_id:
            _remerge_item(db, item_id)  # replayed without it, now and at every later merge
        if resolution == "lost" and item_id:
            db.execute("UPDATE items SET status = 'lost', unavailable_since = ?, rev = ? WHERE id = ?",
                       [iso(utc_now()), _next_revs(db, 1), item_id])
        audit(db, librarian, f"resolve {resolution}", f"{kiosk_id} #{seq}", f"{kind} of {item_id}")


def audit_now(db, librarian: str, action: str, target: str, detail: str = "") -> None:
    """`audit` in a transaction of its own."""
    with db.atomic():
        audit(db, librarian, action, target, detail)


def all_rows(db, table: str) -> list[dict]:
    """Every patron or item, for export, in the columns of the CSV import."""
    if table == "patrons":
        return list(db.query("SELECT id, name, type, class_name AS class, card_uid, status, expires FROM patrons"
                             " ORDER BY id"))
    return list(db.query("SELECT id, title, author, call_number, tag_uid, barcode, home, status FROM items"
                         " ORDER BY id"))


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
                   [status, int(out_of_service), iso(utc_now()), _next_revs(db, 1), row_id])
        audit(db, librarian, f"{table[:-1]} {status}", row_id, note)


def register(db, table: str, limit: int = 200) -> list[dict]:
    """The repair and withdrawal register (items) or the card register (patrons): who changed what, when, why."""
    prefix = "item " if table == "items" else "patron "
    return list(db.query("SELECT at, librarian, action, target, detail FROM audit WHERE action LIKE ?"
                         " ORDER BY id DESC LIMIT ?", [prefix + "%", limit]))


def save_rules(db, librarian: str, policy: Policy) -> None:
    """The rules editor's save: stored, audited, and pulled by every kiosk at its next sync."""
    set_rules(db, policy)
    audit_now(db, librarian, "rules", "policy", json.dumps(policy_to_table(policy), sort_keys=True))


@migrations(name="pages_0003_reading_counts")
def _reading_counts(db: sqlite_utils.Database) -> None:
    # What is left of loans whose link to the student has been forgotten.
    db.execute("CREATE TABLE reading_counts (month TEXT NOT NULL, class_name TEXT NOT NULL, item_id TEXT NOT NULL,"
               " loans INTEGER NOT NULL, PRIMARY KEY (month, class_name, item_id)) WITHOUT ROWID")


def term_start(today: date) -> date:
    """The school term `today` falls in starts on 1 September or 1 February."""
    if today.month >= 9:
        return date(today.year, 9, 1)
    if today.month >= 2:
        return date(today.year, 2, 1)
    return date(today.year - 1, 9, 1)


_LOANS_WITH_STUDENTS = ("SELECT patron_id, class_name, item_id, substr(corrected_at, 1, 7) AS month FROM log"
                        " WHERE kind = 'checkout' AND patron_id IS NOT NULL")


def reading_statistics(db, since: date, today: date) -> dict:
    """Books per student since `since`, per class per month, most and never borrowed.

    Forgotten loans (see `forget_returned`) still count, by class and month.
    """
    students = list(db.query(
        "SELECT patrons.id, patrons.name, patrons.class_name, COUNT(l.item_id) AS books FROM patrons"
        f" LEFT JOIN ({_LOANS_WITH_STUDENTS} AND corrected_at >= ?) l ON l.patron_id = patrons.id"
        " WHERE patrons.type = 'student' GROUP BY patrons.id ORDER BY patrons.class_name, patrons.name",
        [since.isoformat()]))
    sizes = dict(db.execute("SELECT class_name, COUNT(*) FROM patrons WHERE type = 'student' GROUP BY class_name")
                 .fetchall())
    monthly = db.query(
        f"SELECT class_name, month, SUM(n) AS books FROM (SELECT class_name, month, 1 AS n FROM ({_LOANS_WITH_STUDENTS})"
        " UNION ALL SELECT class_name, month, loans FROM reading_counts) WHERE class_name IS NOT NULL"
        " GROUP BY class_name, month ORDER BY class_name, month")
    per_class = [dict(row, students=sizes.get(row["class_name"], 0),
                      per_student=round(row["books"] / sizes[row["class_name"]], 2) if sizes.get(row["class_name"])
                      else None) for row in monthly]
    popular = list(db.query(
        "SELECT items.id, items.title, SUM(n) AS loans FROM (SELECT item_id, 1 AS n FROM log WHERE kind = 'checkout'"
        " AND patron_id IS NOT NULL UNION ALL SELECT item_id, loans FROM reading_counts) c JOIN items ON items.id ="
        " c.item_id GROUP BY items.id ORDER BY loans DESC, items.title LIMIT 20"))
    never = list(db.query(
        "SELECT id, title, author, call_number FROM items WHERE status = 'available'"
        " AND id NOT IN (SELECT item_id FROM log WHERE kind = 'checkout' AND item_id IS NOT NULL)"
        " AND id NOT IN (SELECT item_id FROM reading_counts) ORDER BY title"))
    total = db.execute(f"SELECT COUNT(*) FROM ({_LOANS_WITH_STUDENTS})").fetchone()[0] + \
        (db.execute("SELECT COALESCE(SUM(loans), 0) FROM reading_counts").fetchone()[0])
    return {"since": since.isoformat(), "today": today.isoformat(), "students": students, "per_class": per_class,
            "popular": popular, "never": never, "total_loans": total}


def forget_returned(db, before: date) -> int:
    """Cut the link to the student from loans returned before `before`; they stay as counts.

    A loan still open keeps its link. Returns how many loans were reduced to counts.
    """
    cutoff = before.isoformat()
    with db.atomic():
        old = list(db.query(
            "SELECT kiosk_id, seq, class_name, item_id, substr(corrected_at, 1, 7) AS month FROM log"
            " WHERE kind = 'checkout' AND patron_id IS NOT NULL AND corrected_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM loans WHERE loans.kiosk_id = log.kiosk_id AND loans.seq = log.seq)",
            [cutoff]))
        for row in old:
            db.execute("INSERT INTO reading_counts (month, class_name, item_id, loans) VALUES (?, ?, ?, 1)"
                       " ON CONFLICT(month, class_name, item_id) DO UPDATE SET loans = loans + 1",
                       [row["month"], row["class_name"] or "", row["item_id"]])
        open_loans = {(r[0], r[1]) for r in db.execute("SELECT patron_id, item_id FROM loans")}
        for kind in ("checkout", "return", "renew", "not_on_loan", "refused"):
            rows = db.execute("SELECT kiosk_id, seq, patron_id, item_id FROM log WHERE kind = ? AND corrected_at < ?"
                              " AND (patron_id IS NOT NULL OR json_extract(details, '$.from_patron') IS NOT NULL)",
                              [kind, cutoff]).fetchall()
            for kiosk_id, seq, patron_id, item_id in rows:
                if (patron_id, item_id) in open_loans:
                    continue
                db.execute("UPDATE log SET patron_id = NULL, details = json_remove(details, '$.from_patron')"
                           " WHERE kiosk_id = ? AND seq = ?", [kiosk_id, seq])
        audit(db, "kiosk-central", "forget", f"returned loans before {cutoff}", f"{len(old)} loans")
    return len(old)
