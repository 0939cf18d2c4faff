"""The kiosk's local store: SQLite through sqlite-utils, durable per record.

WAL and `synchronous=FULL`: a record is on disk when `append_records`
returns, before anything is shown or signalled. The tables are those of
docs/design.md. Lookups return `kiosk.domain.model` objects; the log is dicts.

Only `init_db` (the `kiosk init` command) creates a database, and it leaves
a marker beside it (`kiosk.db.id`), so that a database that goes missing is
refused instead of silently started over. `open_db` checks the file first
(`kiosk.core.durable`).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

import sqlite_utils
from sqlite_utils.migrations import Migrations

from kiosk.core.durable import DatabaseRefused, check_writable, open_durable
from kiosk.domain.errors import KioskError
from kiosk.domain.events import Record
from kiosk.domain.model import Item, Loan, Patron, Policy
from kiosk.domain.policy import parse_policy, policy_to_table
from kiosk.domain.records import LOG_COLUMNS  # noqa: F401  (kiosk.store.sync reads it from here)
from kiosk.store import shelf

migrations = Migrations("kiosk")

APPLICATION_ID = 0x4B494F53  # "KIOS" in the file's header: this is a kiosk's database
MARKER_SUFFIX = ".id"  # beside the database: "a kiosk database was made here", with its kiosk id


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


def open_db(path: str | Path, *, check: bool = True, writable: bool = False) -> sqlite_utils.Database:
    """Open the kiosk's existing database, checked, durable and migrated; never creates one.

    `check` runs `PRAGMA quick_check` (at a process's start); `writable`
    refuses a database that could only be opened read-only.
    """
    db = open_durable(path, migrations, application_id=APPLICATION_ID, what="kiosk", check=check)
    if writable:
        try:
            check_writable(db, path)
        except DatabaseRefused:
            db.conn.close()
            raise
    return db


def marker_path(path: str | Path) -> Path:
    return Path(f"{path}{MARKER_SUFFIX}")


def init_db(path: str | Path, kiosk_id: str | None = None) -> sqlite_utils.Database:
    """Create the database, or open the one made here before; a kiosk id, once set, never changes.

    Refuses any file it did not create itself (empty, another program's,
    damaged), and a database that is missing where one was made before.
    """
    path, marker = Path(path), marker_path(path)
    if not path.exists() and marker.exists():
        held = marker.read_text(encoding="utf-8").strip()
        raise DatabaseRefused(
            f"{path}: missing, but a kiosk database{f' of kiosk {held}' if held else ''} was made here before "
            f"({marker.name}); it is not started over: rebuild it with `kiosk restore`, or remove {marker} "
            "to start a new kiosk on purpose")
    db = open_durable(path, migrations, application_id=APPLICATION_ID, what="kiosk", create=True)
    current = get_meta(db, "kiosk_id")
    if kiosk_id and current and current != kiosk_id:
        db.conn.close()
        raise StoreError(f"{path}: belongs to kiosk {current!r}, not {kiosk_id!r}")
    if kiosk_id and not current:
        set_meta(db, kiosk_id=kiosk_id)
    held = get_meta(db, "kiosk_id") or ""
    if not marker.exists() or marker.read_text(encoding="utf-8").strip() != held:
        marker.write_text(held + "\n", encoding="utf-8")
    return db


def remove_db(path: str | Path) -> None:
    """Delete a database with its -wal, -shm and marker: starting over on purpose (the demo, tests)."""
    for name in (str(path), f"{path}-wal", f"{path}-shm", str(marker_path(path))):
        Path(name).unlink(missing_ok=True)


def behind_by(db) -> tuple[int, int] | None:
    """(the log's last seq, the central store's acknowledged seq) when the log ends before it, else None.

    `pushed_seq` and `central_acked_seq` are the store's acknowledgement as
    last heard: a log that ends earlier lost records (a lost -wal, an old
    copy), and numbering on from it would give new records old numbers.
    """
    kiosk_id = get_meta(db, "kiosk_id")
    acked = max(int(get_meta(db, "pushed_seq", "0")), int(get_meta(db, "central_acked_seq", "0")))
    held = last_seq(db, kiosk_id) if kiosk_id else 0
    return (held, acked) if acked > held else None


def check_not_behind(db, path: str | Path) -> None:
    """Refuse a database whose log ends before what the central store holds of it (see `behind_by`)."""
    behind = behind_by(db)
    if behind:
        raise DatabaseRefused(
            f"{path}: holds records of kiosk {get_meta(db, 'kiosk_id')} up to #{behind[0]}, but the central store "
            f"has them up to #{behind[1]}: this database is older than the kiosk's log; rebuild it with "
            "`kiosk restore`")


# ------------------------------------------------------------ meta and rules


def get_meta(db, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def probe(db, when: str) -> None:
    """One small durable write, to learn whether the database can be written (again)."""
    with write_transaction(db):
        db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('storage_checked', ?)", [when])


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
    """The rules pulled from the central store, else `fallback` (the config's): also for out-of-range ones."""
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
        if not stamp["trusted"]:
            keep_floor(db, kiosk_id, _floor(db, kiosk_id), seqs[-1])
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
    elif record.kind in ("inventory", "rehome"):
        shelf.apply_record(db, record)


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

    O(1) however long the log: each untrusted append keeps the floor in
    `meta` (`trusted_floor`: the floor and the last seq it covers) in its own
    transaction, so every record after that seq is trusted and the newest
    of them, if any, is the floor. A trusted tap writes nothing extra.
    """
    return _floor(db, get_meta(db, "kiosk_id"))


def _floor(db, kiosk_id: str | None) -> str | None:
    held = json.loads(get_meta(db, "trusted_floor") or "{}")
    row = db.execute("SELECT at FROM log WHERE kiosk_id = ? AND seq > ? AND trusted = 1 ORDER BY seq DESC LIMIT 1",
                     [kiosk_id, int(held.get("seq", 0))]).fetchone()
    return row[0] if row else held.get("at")


def keep_floor(db, kiosk_id: str, floor: str | None, seq: int) -> None:
    """Note that every record up to `seq` is covered by `floor` (inside the caller's transaction)."""
    db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('trusted_floor', ?)",
               [json.dumps({"at": floor, "seq": seq})])


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


from kiosk.store.catalog import item_row, patron_row, save_items, save_patrons, uids_in_use  # noqa: E402,F401
from kiosk.store.sync import (  # noqa: E402,F401  (the sync process's side of the store)
    CHUNK, apply_changes, apply_page, has_books, records_to_push, restore_records, write_transaction,
)

from kiosk.store import reading  # noqa: E402,F401  (its tables' migration registers here, after the first)
