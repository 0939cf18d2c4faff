"""Replaying books' loan records into their loans and flags: many books in a few statements, each by one batch at a time.

Every loan record of each book is replayed in merge order (`sync.server.merge`).
The books are locked first, in one order, so that a batch merging the same
book meanwhile waits and then reads this batch's records too: the last merge
of a book has all of them. The loans are stored under fresh change numbers,
which the caller takes last (`next_revs`), so the counter is held only for
the commit.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from typing import Iterable, Optional

from sqlite_utils.utils import chunks

from kiosk.domain.records import LOAN_KINDS, SHELF_KINDS
from sync.server import merge
from sync.server.db.schema import iso, next_revs

PART = 500  # ids in one IN (...): well under SQLite's limit of parameters
REPLAYED = LOAN_KINDS + SHELF_KINDS  # the kinds the merge replays per item


def marks(values: list) -> str:
    """`?, ?, ...` for an IN list of `values`."""
    return ", ".join("?" * len(values))


def _when(text: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(text) if text else None


def _by_ids(db, sql: str, ids: list[str]) -> Iterable[dict]:
    """The rows of `sql` (with `{ids}` where the IN list goes) for every id, a part at a time."""
    for part in chunks(ids, PART):
        part = list(part)
        yield from db.query(sql.format(ids=marks(part)), part)


def remerge_item(db, item_id: str) -> None:
    """Replay every loan record of one book; update its loan and its flags (inside the caller's transaction)."""
    loans = replay_items(db, [item_id])
    store_loans(db, loans, next_revs(db, len(loans)))


def replay_items(db, item_ids: Iterable[str]) -> dict[str, Optional[merge.MergedLoan]]:
    """Replay these books' loan records, holding the books until the commit; flags stored, loans returned."""
    items = sorted(set(item_ids))
    if not items:
        return {}
    db.lock(f"item:{item_id}" for item_id in items)
    records = defaultdict(list)
    # A record the librarian reversed is kept in the log but no longer applied.
    for row in _by_ids(db, "SELECT item_id, kiosk_id, seq, kind, corrected_at, patron_id, details, corrected_due"
                           " FROM log"
                           f" WHERE item_id IN ({{ids}}) AND kind IN ({', '.join(repr(k) for k in REPLAYED)})"
                           " AND NOT EXISTS (SELECT 1 FROM merge_flags m WHERE m.kiosk_id = log.kiosk_id"
                           " AND m.seq = log.seq AND m.resolution = 'reverse')", items):
        details = json.loads(row["details"] or "{}")
        records[row["item_id"]].append(merge.Rec(
            row["kiosk_id"], row["seq"], row["kind"], datetime.fromisoformat(row["corrected_at"]), row["patron_id"],
            row["corrected_due"] or details.get("due"), details.get("renewals")))
    patron_ids = sorted({r.patron_id for recs in records.values() for r in recs if r.patron_id})
    patrons = {row["id"]: merge.PatronFacts(_when(row["blocked_since"]),
                                            date.fromisoformat(row["expires"]) if row["expires"] else None)
               for row in _by_ids(db, "SELECT id, blocked_since, expires FROM patrons WHERE id IN ({ids})", patron_ids)}
    unavailable = {row["id"]: _when(row["unavailable_since"])
                   for row in _by_ids(db, "SELECT id, unavailable_since FROM items WHERE id IN ({ids})", items)}
    loans, flags = {}, []
    for item_id in items:
        result = merge.replay(records[item_id], patrons, merge.ItemFacts(unavailable.get(item_id)))
        loans[item_id] = result.loan
        flags += [(kiosk_id, seq, item_id, reason, detail)
                  for (kiosk_id, seq), (reason, detail) in result.flags.items()]
    # Flags not yet resolved are recomputed; a librarian's resolution stays.
    for part in chunks(items, PART):
        part = list(part)
        db.execute(f"DELETE FROM merge_flags WHERE item_id IN ({marks(part)}) AND resolution IS NULL", part)
    db.executemany("INSERT OR IGNORE INTO merge_flags (kiosk_id, seq, item_id, reason, detail) VALUES (?, ?, ?, ?, ?)",
                   flags)
    return loans


def store_loans(db, loans: dict[str, Optional[merge.MergedLoan]], first_rev: int) -> None:
    """Store each book's merged loan (or its absence) under a fresh change number from `first_rev` on, in book order.

    Always a fresh one, even when nothing changed here: the kiosk that sent
    the records may hold a loan the merge has since undone (a book it lent,
    returned meanwhile at a kiosk that had not heard of the loan), and it
    learns the outcome only from a change after its cursor.
    """
    revs = {item_id: first_rev + n for n, item_id in enumerate(sorted(loans))}
    gone = [item_id for item_id in revs if loans[item_id] is None]
    held = [item_id for item_id in revs if loans[item_id] is not None]
    for part in chunks(gone, PART):
        part = list(part)
        db.execute(f"DELETE FROM loans WHERE item_id IN ({marks(part)})", part)
    db.executemany("INSERT OR REPLACE INTO loans_removed (item_id, rev) VALUES (?, ?)",
                   [(item_id, revs[item_id]) for item_id in gone])
    db.executemany("INSERT OR REPLACE INTO loans (item_id, patron_id, due, checked_out, renewals, kiosk_id, seq, rev)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [(item_id, loan.patron_id, loan.due, iso(loan.checked_out), loan.renewals, loan.kiosk_id, loan.seq,
                     revs[item_id]) for item_id in held for loan in [loans[item_id]]])
    for part in chunks(held, PART):
        part = list(part)
        db.execute(f"DELETE FROM loans_removed WHERE item_id IN ({marks(part)})", part)
