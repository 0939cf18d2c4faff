"""The sync process's side of the kiosk's store: records to push, pages of changes to apply, a restore.

The sync process shares the database with the screen process. A tap must
never wait long on it: every write here is a short transaction that takes
the write lock at its start, and a page of changes is applied in chunks of
at most `CHUNK` rows, each in its own transaction (bench/sync_tap_wait.py
measures what a tap waits meanwhile).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

from kiosk.domain.errors import ConfigError
from kiosk.domain.policy import parse_policy
from kiosk.store import shelf

CHUNK = 100  # rows of a page of changes applied per transaction

@contextmanager
def write_transaction(db):
    """A transaction that takes the write lock at its start (BEGIN IMMEDIATE).

    A deferred transaction that reads first and writes later fails at once
    with "database is locked" if a tap committed in between (SQLite cannot
    upgrade a stale WAL snapshot); taking the lock first makes it wait its
    turn under the busy timeout instead. Nested `db.atomic()` blocks inside
    become savepoints of this transaction.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def records_to_push(db, kiosk_id: str, limit: int) -> list[dict]:
    """The next records the central store has not acknowledged, oldest first."""
    from kiosk.store import LOG_COLUMNS, _log_row, get_meta

    pushed = int(get_meta(db, "pushed_seq", "0"))
    rows = db.execute(
        f"SELECT {', '.join(LOG_COLUMNS)} FROM log WHERE kiosk_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        [kiosk_id, pushed, limit]).fetchall()
    return [_log_row(dict(zip(LOG_COLUMNS, row))) for row in rows]


def _chunks(page: dict, size: int) -> list[list[tuple[str, object]]]:
    """The page's rows as (table, row) pairs, cut into chunks of at most `size`."""
    rows: list[tuple[str, object]] = []
    for table in ("patrons", "items", "loans", "loans_removed"):
        rows.extend((table, row) for row in page.get(table) or [])
    return [rows[i:i + size] for i in range(0, len(rows), size)] or [[]]


def has_books(db) -> bool:
    """Whether the kiosk holds any book yet (a new kiosk's first pull has none to lend: nothing to leave room for)."""
    return db.execute("SELECT 1 FROM items LIMIT 1").fetchone() is not None


def apply_page(db, kiosk_id: str, page: dict, cursor: str, chunk: int = CHUNK) -> Iterator[int]:
    """Apply one page of the central store's changes, `chunk` rows per transaction; yields after each commit.

    The central store is the truth for patrons, items and rules. For loans it
    is the truth too, except for items touched by this kiosk's records it has
    not acknowledged yet: the next push and pull settle those. The rules, the
    reading tables and the new cursor go with the last chunk: a page cut short (a kill between
    chunks) is asked for and applied again from its start, which changes
    nothing more, since every row carries the store's latest state of it.
    Yields the number of rows applied so far.
    """
    chunks = _chunks(page, chunk)
    done = 0
    for number, part in enumerate(chunks, start=1):
        with write_transaction(db):
            _apply_rows(db, kiosk_id, part)
            if number == len(chunks):
                from kiosk.store import reading, save_policy

                if page.get("rules"):
                    _take_rules(db, page["rules"], save_policy)
                reading.apply_pulled(db, page)  # reading counts, showcase, recommendations: few rows, kept whole
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('pull_cursor', ?)", [str(cursor)])
        done += len(part)
        yield done


def _take_rules(db, rules: dict, save_policy) -> None:
    """Keep pulled rules that pass their checks; else keep the last good ones and note why for the sync process."""
    try:
        save_policy(db, parse_policy(rules, "(central rules)"))
        db.execute("DELETE FROM meta WHERE key = 'rules_error'")
    except ConfigError as exc:
        # Never lend by rules that cannot be used.
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('rules_error', ?)", [str(exc)])


def apply_changes(db, kiosk_id: str, page: dict, cursor: str) -> None:
    """Apply a whole page of changes and its cursor, chunk after chunk, with no pause between (no sync running)."""
    for _ in apply_page(db, kiosk_id, page, cursor):
        pass


def _apply_rows(db, kiosk_id: str, part: list[tuple[str, object]]) -> None:
    from kiosk.store import get_meta

    by_table: dict[str, list] = {}
    for table, row in part:
        by_table.setdefault(table, []).append(row)
    for table, uid_column in (("patrons", "card_uid"), ("items", "tag_uid")):
        columns = tuple(db[table].columns_dict)  # this kiosk's columns; a field it does not keep is left out
        rows = [{c: row.get(c) for c in columns} for row in by_table.get(table, [])]
        if not rows:
            continue
        # A UID that moved to another row: free it wherever it is first.
        ids = [r["id"] for r in rows]
        uids = [r[uid_column] for r in rows if r[uid_column]]
        db.execute(f"UPDATE {table} SET {uid_column} = NULL WHERE id IN ({','.join('?' * len(ids))})"
                   + (f" OR {uid_column} IN ({','.join('?' * len(uids))})" if uids else ""), ids + uids)
        db[table].upsert_all(rows, pk="id")
    pushed = int(get_meta(db, "pushed_seq", "0"))
    if by_table.get("items"):
        shelf.reapply_unpushed(db, kiosk_id, pushed)  # a book received here keeps its new home until pushed
    if not (by_table.get("loans") or by_table.get("loans_removed")):
        return
    unsettled = {r[0] for r in db.execute(
        "SELECT DISTINCT item_id FROM log WHERE kiosk_id = ? AND seq > ? AND item_id IS NOT NULL",
        [kiosk_id, pushed])}
    for loan in by_table.get("loans", []):
        if loan["item_id"] in unsettled:
            continue
        db.execute("INSERT OR REPLACE INTO loans (item_id, patron_id, due, checked_out, renewals, kiosk_id, seq)"
                   " VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                   [loan["item_id"], loan["patron_id"], loan["due"], loan["checked_out"], loan["renewals"]])
    for item_id in by_table.get("loans_removed", []):
        if item_id not in unsettled:
            db.execute("DELETE FROM loans WHERE item_id = ?", [item_id])


def restore_records(db, kiosk_id: str, records: list[dict]) -> None:
    """Put this kiosk's own records, as the central store holds them, back into an empty log (one transaction).

    The loans they made come from the central store's merged loans (the
    pull that follows), not from replaying them here.
    """
    from kiosk.store import keep_floor, last_trusted_at

    with write_transaction(db):
        db.conn.executemany(
            "INSERT INTO log(kiosk_id, seq, kind, at, trusted, boot_id, monotonic, patron_id, item_id, details,"
            " flagged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(kiosk_id, r["seq"], r["kind"], r["at"], int(bool(r["trusted"])), r.get("boot_id"), r.get("monotonic"),
              r.get("patron_id"), r.get("item_id"),
              json.dumps(r.get("details") or {}, sort_keys=True, ensure_ascii=False), int(bool(r.get("flagged"))))
             for r in records])
        if records:
            keep_floor(db, kiosk_id, last_trusted_at(db), max(r["seq"] for r in records))
