"""The central store's tables and their named migrations, and opening the database.

SQLite (WAL, `synchronous=FULL`) or PostgreSQL, through one connection surface
(`connection.py`); migrations are named and applied in the order they are
registered here, on either backend (`migrate.py`), written in SQLite's
spelling (`dialect.py` says what PostgreSQL is told). Tables: docs/sync-api.md.
Opening and creating a store is `schools.open_db` and `schools.init_db`:
only `init_db` (`kiosk-central init`) creates one; `open_db` refuses a
missing, damaged or foreign one and one made by a newer version (a migration
it does not know), with one line.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

from kiosk.domain.errors import KioskError
from sync.server.db.migrate import Migrations

migrations = Migrations("central")


@migrations(name="0001_tables")
def _tables(db) -> None:
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


@migrations(name="pages_0001_librarians")
def _librarians(db) -> None:
    db.executescript("""
    CREATE TABLE librarians (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created TEXT NOT NULL);
    CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, librarian TEXT NOT NULL, csrf TEXT NOT NULL,
        expires TEXT NOT NULL);
    CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, librarian TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT, detail TEXT);
    """)


@migrations(name="pages_0002_log_indexes")
def _log_indexes(db) -> None:
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


@migrations(name="pages_0003_reading_counts")
def _reading_counts(db) -> None:
    # What is left of loans whose link to the student has been forgotten.
    db.execute("CREATE TABLE reading_counts (month TEXT NOT NULL, class_name TEXT NOT NULL, item_id TEXT NOT NULL,"
               " loans INTEGER NOT NULL, PRIMARY KEY (month, class_name, item_id)) WITHOUT ROWID")


@migrations(name="desk_0001_charges_settings")
def _desk(db) -> None:
    # The librarian's desk writes its records to the merged log as a kiosk of
    # its own, `desk`, whose token hash no token has (it never pushes). A
    # patron owing more than the school's amount is sent to the kiosks as
    # blocked (`owes_block`) until the charge is paid or waived.
    db.executescript("""
    ALTER TABLE items ADD COLUMN price_cents INTEGER;
    ALTER TABLE patrons ADD COLUMN owes_block INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE charges (id INTEGER PRIMARY KEY, patron_id TEXT NOT NULL, item_id TEXT, reason TEXT NOT NULL,
        amount_cents INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'open', created TEXT NOT NULL,
        created_by TEXT, settled TEXT, settled_by TEXT, note TEXT);
    CREATE INDEX charges_patron ON charges(patron_id, status);
    CREATE INDEX charges_item ON charges(item_id, status);
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """)
    db.execute("INSERT OR IGNORE INTO kiosks (id, name, token_hash, created) VALUES ('desk', ?, ?, ?)",
               ["Librarian's desk", "none:" + secrets.token_hex(32), iso(utc_now())])


@migrations(name="faults_0001_epoch")
def _epoch(db) -> None:
    # The database's identity: made with it, changed by a restore. A kiosk
    # that sees another epoch than before knows the store may hold less than
    # it once acknowledged, and sends again and pulls from the start.
    db.execute("CREATE TABLE store (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO store (key, value) VALUES ('epoch', ?)", [new_epoch()])


@migrations(name="faults_0002_corrected_due")
def _corrected_due(db) -> None:
    # The due date recomputed from the corrected time of a checkout or
    # renewal stamped by an untrusted clock, where it differs from the kiosk's.
    db.execute("ALTER TABLE log ADD COLUMN corrected_due TEXT")


APPLICATION_ID = 0x4B43454E  # "KCEN" in the file's header: this is a central store's database


def new_epoch() -> str:
    """A fresh identity for a central database."""
    return secrets.token_hex(8)


@migrations(name="stocktake_0001_homes_and_rotations")
def _homes_and_rotations(db) -> None:
    # Homes' names for people (pulled by the kiosks); each inventory record's count on a shelf, kept at push
    # so that a stocktake reads columns, not JSON; stocktakes closed with the books they marked lost; rotation
    # plans of the book corners with each book's move and when the receiving kiosk saw it.
    db.executescript("""
    CREATE TABLE homes (id TEXT PRIMARY KEY, name TEXT NOT NULL, class_name TEXT, rev INTEGER NOT NULL);
    CREATE INDEX homes_rev ON homes(rev);
    CREATE INDEX items_shelf ON items(home, call_number, id, title, status);
    CREATE TABLE shelf_counts (kiosk_id TEXT NOT NULL, seq INTEGER NOT NULL, item_id TEXT NOT NULL, shelf TEXT NOT NULL,
        corrected_at TEXT NOT NULL, on_loan INTEGER NOT NULL, unavailable INTEGER NOT NULL, PRIMARY KEY (kiosk_id, seq));
    CREATE INDEX shelf_counts_time ON shelf_counts(corrected_at);
    CREATE INDEX shelf_counts_shelf ON shelf_counts(shelf, corrected_at);
    CREATE TABLE stocktakes (id INTEGER PRIMARY KEY, home TEXT NOT NULL, since TEXT NOT NULL, closed_at TEXT NOT NULL,
        closed_by TEXT NOT NULL, missing INTEGER NOT NULL);
    CREATE TABLE stocktake_lost (stocktake_id INTEGER NOT NULL, item_id TEXT NOT NULL, found_at TEXT, found_by TEXT,
        PRIMARY KEY (stocktake_id, item_id));
    CREATE INDEX stocktake_lost_item ON stocktake_lost(item_id);
    CREATE TABLE rotations (id INTEGER PRIMARY KEY, created TEXT NOT NULL, created_by TEXT NOT NULL, homes TEXT NOT NULL);
    CREATE TABLE rotation_items (rotation_id INTEGER NOT NULL, item_id TEXT NOT NULL, from_home TEXT NOT NULL,
        to_home TEXT NOT NULL, received_at TEXT, received_by TEXT, PRIMARY KEY (rotation_id, item_id));
    CREATE INDEX rotation_items_item ON rotation_items(item_id);
    """)


@migrations(name="pages_0004_log_class_kind")
def _log_class_kind(db) -> None:
    # The log page filtered by a class and a kind (the checkouts of 3B): this
    # index reads the page's 50 rows. With the class's index alone, a kind
    # the class has few records of meant reading most of the class's year.
    db.execute("CREATE INDEX log_class_kind_time ON log(class_name, kind, corrected_at, kiosk_id, seq)")


class CentralError(KioskError):
    """The central store cannot do what was asked; the message says why."""


class Conflict(CentralError):
    """A record already held under the same identity with other content."""


def refresh_statistics(db) -> None:
    """Give the query planner statistics that fit the tables as they are now (at start, after a large import).

    `PRAGMA optimize` analyses every table that has no statistics or has
    changed much in size since its last analysis (10 x from SQLite 3.46, 25 x
    before). Before 3.46 (Debian 12 and Raspberry Pi OS Bookworm have 3.40)
    it weighs only tables whose indexes this connection has planned with, so
    a plan is made for each index first (EXPLAIN: nothing runs). The analysis
    reads whole indexes, not a sample: a sample of a thousand rows of the log
    sees one kind and one class, and tells the planner no more than nothing.
    On PostgreSQL, ANALYZE (autovacuum keeps the statistics fresh afterwards).
    """
    if db.dialect == "postgresql":
        db.execute("ANALYZE")
        return
    for table, index in db.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'").fetchall():
        column = db.execute(f"PRAGMA index_info([{index}])").fetchone()[2]
        db.execute(f"EXPLAIN QUERY PLAN SELECT 1 FROM [{table}] WHERE [{column}] = ?", [None]).fetchall()
    # 0x10002: weigh every table, analyse without a sampling limit; 3.40 knows no 0x10000 and ignores it.
    db.execute("PRAGMA optimize = 0x10002")


def epoch(db) -> str:
    """This central database's identity (see `_epoch`)."""
    return db.execute("SELECT value FROM store WHERE key = 'epoch'").fetchone()[0]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def next_revs(db, count: int) -> int:
    """Reserve `count` change numbers; returns the first."""
    first = db.execute("UPDATE changes SET rev = rev + ? WHERE id = 1 RETURNING rev", [count]).fetchone()[0]
    return first - count + 1
