"""The kiosk's local store: SQLite through sqlite-utils, durable per record.

WAL and `synchronous=FULL`: a record is on disk when `append_records`
returns, before anything is shown or signalled. The tables are those of
docs/design.md. Lookups return `kiosk.domain.model` objects; the log is dicts.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

import sqlite_utils
from sqlite_utils.migrations import Migrations

from kiosk.domain.policy import parse_policy, policy_to_table
from kiosk.core.durable import open_durable
from kiosk.domain.errors import ConfigError, KioskError
from kiosk.domain.events import Record
from kiosk.domain.model import Item, Loan, Patron, Policy

migrations = Migrations("kiosk")

LOG_COLUMNS = (
    "kiosk_id", "seq", "kind", "at", "trusted", "boot_id", "monotonic",
    "patron_id", "item_id", "details", "flagged",
)


@migrations(name="0001_tables")
def _tables(db: sqlite_utils.Database) -> None:
    db["patrons"].create(
        {"id": str, "name": str, "type": str, "class_name": str, "card_uid": str, "status": str, "expires": str},
        pk="id",
    )
    db["items"].create(
        {"id": str, "title": str, "author": str, "call_number": str, "tag_uid": str, "barcode": str,
         "home": str, "status": str},
        pk="id",
    )
    db["loans"].create(
        {"item_id": str, "patron_id": str, "due": str, "checked_out": str, "renewals": int,
         "kiosk_id": str, "seq": int},
        pk="item_id",
    )
    # WITHOUT ROWID: the log is one b-tree keyed by its identity, so an
    # append writes the same few pages however long the log grows.
    db.execute(
        "CREATE TABLE log (kiosk_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,"
        " trusted INTEGER, boot_id TEXT, monotonic REAL, patron_id TEXT, item_id TEXT, details TEXT,"
        " flagged INTEGER, PRIMARY KEY (kiosk_id, seq)) WITHOUT ROWID"
    )
    db["rules"].create({"key": str, "value": str}, pk="key")
    db["meta"].create({"key": str, "value": str}, pk="key")
    db.execute("CREATE UNIQUE INDEX patrons_card_uid ON patrons(card_uid) WHERE card_uid IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX items_tag_uid ON items(tag_uid) WHERE tag_uid IS NOT NULL")
    db.execute("CREATE INDEX items_barcode ON items(barcode)")
    db.execute("CREATE INDEX loans_patron ON loans(patron_id)")


class StoreError(KioskError):
    """The local store cannot be used as asked."""


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the kiosk's database, durable and migrated."""
    return open_durable(path, migrations)


def init_db(path: str | Path, kiosk_id: str | None = None) -> sqlite_utils.Database:
    """Create the database; a kiosk id, once set, never changes."""
    db = open_db(path)
    current = get_meta(db, "kiosk_id")
    if kiosk_id and current and current != kiosk_id:
        raise StoreError(f"{path}: belongs to kiosk {current!r}, not {kiosk_id!r}")
    if kiosk_id and not current:
        set_meta(db, kiosk_id=kiosk_id)
    return db


# ------------------------------------------------------------ meta and rules


def get_meta(db, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(db, **values: Any) -> None:
    """Set meta keys in one transaction (None deletes a key)."""
    with db.atomic():
        for key, value in values.items():
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", [key])
            else:
                db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", [key, str(value)])


def central_offset(db) -> tuple[float | None, str | None]:
    """The central store's clock minus this kiosk's as the sync process measured it, and the boot it holds for."""
    value = get_meta(db, "central_offset")
    return (float(value) if value is not None else None), get_meta(db, "central_offset_boot")


def load_policy(db, fallback: Policy) -> Policy:
    """The rules pulled from the central store, else `fallback` (the config's).

    Rules an older version stored without checking their ranges are not
    used either: the config's are.
    """
    row = db.execute("SELECT value FROM rules WHERE key = 'policy'").fetchone()
    if not row:
        return fallback
    try:
        return parse_policy(json.loads(row[0]), "central rules")
    except ValueError:
        return fallback


def rules_text(db) -> str | None:
    """The stored rules as text, to notice cheaply that a sync changed them."""
    row = db.execute("SELECT value FROM rules WHERE key = 'policy'").fetchone()
    return row[0] if row else None


def save_policy(db, policy: Policy) -> None:
    with db.atomic():
        db.execute("INSERT OR REPLACE INTO rules(key, value) VALUES ('policy', ?)",
                   [json.dumps(policy_to_table(policy))])


# ------------------------------------------------------------ lookups


def _patron(row) -> Patron:
    return Patron(
        id=row["id"], name=row["name"], type=row["type"] or "student", class_name=row["class_name"] or "",
        card_uid=row["card_uid"], status=row["status"] or "active",
        expires=date.fromisoformat(row["expires"]) if row["expires"] else None,
    )


def _item(row) -> Item:
    return Item(
        id=row["id"], title=row["title"], author=row["author"] or "", call_number=row["call_number"] or "",
        tag_uid=row["tag_uid"], barcode=row["barcode"], home=row["home"] or "", status=row["status"] or "available",
    )


def _loan(row) -> Loan:
    return Loan(
        item_id=row["item_id"], patron_id=row["patron_id"], due=date.fromisoformat(row["due"]),
        checked_out=datetime.fromisoformat(row["checked_out"]), renewals=row["renewals"] or 0,
        title=row["title"] or "",
    )


def _one(db, sql: str, params) -> dict | None:
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


def patron_by_uid(db, uid: str) -> Patron | None:
    row = _one(db, "SELECT * FROM patrons WHERE card_uid = ?", [uid])
    return _patron(row) if row else None


def patron_by_id(db, patron_id: str) -> Patron | None:
    row = _one(db, "SELECT * FROM patrons WHERE id = ?", [patron_id])
    return _patron(row) if row else None


def item_by_uid(db, uid: str) -> Item | None:
    row = _one(db, "SELECT * FROM items WHERE tag_uid = ?", [uid])
    return _item(row) if row else None


def item_by_barcode(db, barcode: str) -> Item | None:
    row = _one(db, "SELECT * FROM items WHERE barcode = ? ORDER BY id LIMIT 1", [barcode])
    return _item(row) if row else None


_LOANS = "SELECT loans.*, items.title AS title FROM loans LEFT JOIN items ON items.id = loans.item_id"


def loans_of(db, patron_id: str) -> tuple[Loan, ...]:
    """A patron's current loans, with titles, soonest due first."""
    rows = db.query(_LOANS + " WHERE loans.patron_id = ? ORDER BY due, item_id", [patron_id])
    return tuple(_loan(r) for r in rows)


def loan_of(db, item_id: str) -> Loan | None:
    row = _one(db, _LOANS + " WHERE loans.item_id = ?", [item_id])
    return _loan(row) if row else None


# ------------------------------------------------------------ the log


def last_seq(db, kiosk_id: str) -> int:
    row = db.execute("SELECT MAX(seq) FROM log WHERE kiosk_id = ?", [kiosk_id]).fetchone()
    return row[0] or 0


def append_records(db, kiosk_id: str, records: Iterable[Record], stamp: dict[str, Any]) -> list[int]:
    """Append `records` to the log and apply them to `loans`, in ONE transaction.

    `stamp` carries `at` (ISO time), `trusted`, `boot_id` and `monotonic`
    from `kiosk.clock`. Returns the sequence numbers given, in order.
    """
    records = list(records)
    if not records:
        return []
    seqs = []
    with db.atomic():
        for record in records:
            # The INSERT is the transaction's first statement, so it takes the
            # write lock before the sequence number is read: the sync process
            # writing meanwhile can only make us wait, never fail.
            seq = db.execute(
                "INSERT INTO log(kiosk_id, seq, kind, at, trusted, boot_id, monotonic, patron_id, item_id,"
                " details, flagged) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM log WHERE kiosk_id = ?),"
                " ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                [kiosk_id, kiosk_id, record.kind, stamp["at"], int(bool(stamp["trusted"])), stamp["boot_id"],
                 stamp["monotonic"], record.patron_id, record.item_id,
                 json.dumps(record.details, sort_keys=True, ensure_ascii=False), int(record.flagged)],
            ).fetchone()[0]
            _apply(db, kiosk_id, seq, record, stamp["at"])
            seqs.append(seq)
    return seqs


def _apply(db, kiosk_id: str, seq: int, record: Record, at: str) -> None:
    """What a record does to the current loans."""
    if record.kind == "checkout":
        db.execute(
            "INSERT OR REPLACE INTO loans(item_id, patron_id, due, checked_out, renewals, kiosk_id, seq)"
            " VALUES (?, ?, ?, ?, 0, ?, ?)",
            [record.item_id, record.patron_id, record.details["due"], at, kiosk_id, seq],
        )
    elif record.kind == "return":
        db.execute("DELETE FROM loans WHERE item_id = ?", [record.item_id])
    elif record.kind == "renew":
        db.execute(
            "UPDATE loans SET due = ?, renewals = ?, kiosk_id = ?, seq = ? WHERE item_id = ?",
            [record.details["due"], record.details.get("renewals", 1), kiosk_id, seq, record.item_id],
        )


def _log_row(row: dict) -> dict:
    out = dict(row)
    out["details"] = json.loads(out["details"] or "{}")
    out["trusted"] = bool(out["trusted"])
    out["flagged"] = bool(out["flagged"])
    return out


def iter_log(db, after_seq: int = 0, limit: int | None = None) -> Iterator[dict]:
    """The log in sequence order, as dicts (details parsed)."""
    sql = "SELECT * FROM log WHERE seq > ? ORDER BY kiosk_id, seq"
    params: list[Any] = [after_seq]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    for row in db.query(sql, params):
        yield _log_row(row)


def last_trusted_at(db) -> str | None:
    """The time of the newest record stamped with a trusted clock: the floor for untrusted times.

    Read from the log itself (newest first, usually one row), so that a tap
    writes no extra page to keep it.
    """
    kiosk_id = get_meta(db, "kiosk_id")
    row = db.execute("SELECT at FROM log WHERE kiosk_id = ? AND trusted = 1 ORDER BY seq DESC LIMIT 1",
                     [kiosk_id]).fetchone()
    return row[0] if row else None


def pending_count(db) -> int:
    """Records not yet acknowledged by the central store.

    Sequence numbers have no gaps, so this is a subtraction, not a count:
    the idle screen asks for it often and the log only grows.
    """
    kiosk_id = get_meta(db, "kiosk_id")
    if kiosk_id is None:
        return 0
    return max(0, last_seq(db, kiosk_id) - int(get_meta(db, "pushed_seq", "0")))


def status(db) -> dict[str, Any]:
    """Counts, pending records, last sync and last error, for `kiosk status`."""
    count = lambda table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: E731
    return {
        "kiosk_id": get_meta(db, "kiosk_id"),
        "patrons": count("patrons"),
        "items": count("items"),
        "loans": count("loans"),
        "records": count("log"),
        "flagged": db.execute("SELECT COUNT(*) FROM log WHERE flagged").fetchone()[0],
        "pending": pending_count(db),
        "last_sync": get_meta(db, "last_sync"),
        "last_error": get_meta(db, "last_error"),
        "clock_trusted_at": last_trusted_at(db),
    }


# ------------------------------------------------------------ imports


def patron_row(p: Patron) -> dict:
    return {"id": p.id, "name": p.name, "type": p.type, "class_name": p.class_name, "card_uid": p.card_uid,
            "status": p.status, "expires": p.expires.isoformat() if p.expires else None}


def item_row(i: Item) -> dict:
    return {"id": i.id, "title": i.title, "author": i.author, "call_number": i.call_number,
            "tag_uid": i.tag_uid, "barcode": i.barcode, "home": i.home, "status": i.status}


def uids_in_use(db, table: str) -> dict[str, str]:
    """UID -> owner id for `patrons` (card UIDs) or `items` (tag UIDs)."""
    column = "card_uid" if table == "patrons" else "tag_uid"
    return {r[0]: r[1] for r in db.execute(f"SELECT {column}, id FROM {table} WHERE {column} IS NOT NULL")}


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


# ------------------------------------------------------------ sync


def records_to_push(db, kiosk_id: str, limit: int) -> list[dict]:
    """The next records the central store has not acknowledged, oldest first."""
    pushed = int(get_meta(db, "pushed_seq", "0"))
    rows = db.execute(
        f"SELECT {', '.join(LOG_COLUMNS)} FROM log WHERE kiosk_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        [kiosk_id, pushed, limit]).fetchall()
    return [_log_row(dict(zip(LOG_COLUMNS, row))) for row in rows]


def apply_changes(db, kiosk_id: str, page: dict, cursor: str) -> None:
    """Apply one page of the central store's changes and its cursor, in ONE transaction.

    The central store is the truth for patrons, items and rules. For loans it
    is the truth too, except for items touched by this kiosk's records it has
    not acknowledged yet: the next push and pull settle those.
    """
    with db.atomic():
        pushed = int(get_meta(db, "pushed_seq", "0"))
        unsettled = {r[0] for r in db.execute(
            "SELECT DISTINCT item_id FROM log WHERE kiosk_id = ? AND seq > ? AND item_id IS NOT NULL",
            [kiosk_id, pushed])}
        for table, uid_column, rows in (("patrons", "card_uid", page.get("patrons") or []),
                                        ("items", "tag_uid", page.get("items") or [])):
            if not rows:
                continue
            columns = LOCAL_COLUMNS[table]
            rows = [{c: row.get(c) for c in columns} for row in rows]
            # A UID that moved to another row: free it wherever it is first.
            for chunk in range(0, len(rows), 500):
                part = rows[chunk:chunk + 500]
                ids = [r["id"] for r in part]
                uids = [r[uid_column] for r in part if r[uid_column]]
                db.execute(f"UPDATE {table} SET {uid_column} = NULL WHERE id IN ({','.join('?' * len(ids))})"
                           + (f" OR {uid_column} IN ({','.join('?' * len(uids))})" if uids else ""), ids + uids)
            db[table].upsert_all(rows, pk="id")
        for loan in page.get("loans") or []:
            if loan["item_id"] in unsettled:
                continue
            db.execute("INSERT OR REPLACE INTO loans (item_id, patron_id, due, checked_out, renewals, kiosk_id, seq)"
                       " VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                       [loan["item_id"], loan["patron_id"], loan["due"], loan["checked_out"], loan["renewals"]])
        for item_id in page.get("loans_removed") or []:
            if item_id not in unsettled:
                db.execute("DELETE FROM loans WHERE item_id = ?", [item_id])
        if page.get("rules"):
            try:
                save_policy(db, parse_policy(page["rules"], "(central rules)"))
                db.execute("DELETE FROM meta WHERE key = 'rules_error'")
            except ConfigError as exc:
                # Never lend by rules that cannot be used: keep the last good
                # ones, and let the sync process report these.
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('rules_error', ?)", [str(exc)])
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('pull_cursor', ?)", [str(cursor)])


LOCAL_COLUMNS = {
    "patrons": ("id", "name", "type", "class_name", "card_uid", "status", "expires"),
    "items": ("id", "title", "author", "call_number", "tag_uid", "barcode", "home", "status"),
}
