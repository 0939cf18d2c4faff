"""What the kiosk keeps for reading goals, the idle showcase and recommendations.

The central store sends, with the changes of each sync (docs/sync-api.md):
books borrowed this term per student and kiosk (`reading`), this month per
class and kiosk (`class_reading`), the showcase lists (`showcase`: new books
per home, most borrowed per class, keen readers where the school allows
names), and for each book the books its readers also read
(`recommendations`); with home names (`homes`) when it has them.

A count is kept per kiosk so that the kiosk adds its own log without
counting a checkout twice: its own records count from its log (or from the
central store's count for it, if that is higher, as after a restore), every
other kiosk's from the central store. So progress shows offline, at once
after a checkout, and the same at every kiosk after a sync.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Iterable

from kiosk.domain import reading
from kiosk.domain.model import Patron, Policy
from kiosk.domain.view import Book, Progress
from kiosk.store import migrations
from sync.protocol import READING_TABLES

# A page's tables of this subject and their columns (the table of the same name here); `homes` only
# when the central store has names for them.
PULLED = {"homes": ("id", "name"), **READING_TABLES}
JSON_COLUMNS = ("entries", "also")


@migrations(name="reading_0001_tables")
def _tables(db) -> None:
    db.executescript("""
    CREATE TABLE homes (id TEXT PRIMARY KEY, name TEXT);
    CREATE TABLE reading (patron_id TEXT NOT NULL, kiosk_id TEXT NOT NULL, term TEXT NOT NULL,
        books INTEGER NOT NULL, PRIMARY KEY (patron_id, kiosk_id)) WITHOUT ROWID;
    CREATE TABLE class_reading (class_name TEXT NOT NULL, kiosk_id TEXT NOT NULL, month TEXT NOT NULL,
        books INTEGER NOT NULL, PRIMARY KEY (class_name, kiosk_id)) WITHOUT ROWID;
    CREATE TABLE showcase (list TEXT PRIMARY KEY, month TEXT, entries TEXT NOT NULL);
    CREATE TABLE recommendations (item_id TEXT PRIMARY KEY, also TEXT NOT NULL);
    ALTER TABLE items ADD COLUMN initials TEXT;
    """)
    # A student's checkouts in this kiosk's log, found without reading the
    # whole log; only checkouts pay for the index.
    db.execute("CREATE INDEX log_checkouts ON log(patron_id, kiosk_id) WHERE kind = 'checkout'")


def apply_pulled(db, page: dict) -> None:
    """Store the reading tables of one page of changes (inside the caller's transaction)."""
    for table, columns in PULLED.items():
        rows = page.get(table) or []
        if not rows:
            continue
        values = [[json.dumps(row[c], ensure_ascii=False) if c in JSON_COLUMNS else row[c] for c in columns]
                  for row in rows]
        db.conn.executemany(f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES"
                            f" ({', '.join('?' * len(columns))})", values)


def homes(db) -> dict[str, str]:
    """Home id -> name, as far as the central store has named them."""
    return {r[0]: r[1] for r in db.execute("SELECT id, name FROM homes WHERE name IS NOT NULL AND name != ''")}


def _own_checkouts(db, kiosk_id: str, patron_ids: Iterable[str], since: date, now: datetime) -> int:
    """This kiosk's checkouts to `patron_ids` on or after `since` (in the kiosk's time zone)."""
    count = 0
    for patron_id in patron_ids:
        # Named: without statistics the planner takes the primary key, whose
        # kiosk id is every record of a kiosk's own log (a card tap read the
        # whole log: 160 ms at 500,000 records, seconds for a class).
        for (at,) in db.execute("SELECT at FROM log INDEXED BY log_checkouts WHERE kind = 'checkout'"
                                " AND patron_id = ? AND kiosk_id = ?", [patron_id, kiosk_id]):
            when = datetime.fromisoformat(at)
            if (when.astimezone(now.tzinfo) if when.tzinfo and now.tzinfo else when).date() >= since:
                count += 1
    return count


def _combined(own: int, central: dict[str, int], kiosk_id: str) -> int:
    return sum(n for k, n in central.items() if k != kiosk_id) + max(own, central.get(kiosk_id, 0))


def term_books(db, kiosk_id: str, patron_id: str, policy: Policy, now: datetime) -> int:
    """Books `patron_id` borrowed this term, at any kiosk the kiosk has heard of."""
    start = reading.term_start(policy, now.date())
    central = dict(db.execute("SELECT kiosk_id, books FROM reading WHERE patron_id = ? AND term = ?",
                              [patron_id, start.isoformat()]).fetchall())
    return _combined(_own_checkouts(db, kiosk_id, [patron_id], start, now), central, kiosk_id)


def class_books(db, kiosk_id: str, class_name: str, now: datetime) -> tuple[int, int]:
    """Books the class borrowed this month, and how many students it has."""
    start = reading.month_start(now.date())
    students = [r[0] for r in db.execute("SELECT id FROM patrons WHERE type = 'student' AND class_name = ?",
                                         [class_name])]
    central = dict(db.execute("SELECT kiosk_id, books FROM class_reading WHERE class_name = ? AND month = ?",
                              [class_name, start.isoformat()[:7]]).fetchall())
    return _combined(_own_checkouts(db, kiosk_id, students, start, now), central, kiosk_id), len(students)


def progress(db, kiosk_id: str, patron: Patron, policy: Policy, now: datetime, cabinet: bool) -> Progress | None:
    """A student's reading this term; at a class cabinet, with the class's this month. None for others."""
    if patron.type != "student":
        return None
    books = term_books(db, kiosk_id, patron.id, policy, now)
    if not (cabinet and patron.class_name):
        return Progress(term_books=books, term_goal=policy.term_goal)
    done, size = class_books(db, kiosk_id, patron.class_name, now)
    return Progress(term_books=books, term_goal=policy.term_goal, class_name=patron.class_name,
                    class_books=done, class_goal=policy.class_month_goal * max(1, size))


def recommended(db, item_id: str, home: str, limit: int = 2) -> tuple[Book, ...]:
    """Books that readers of `item_id` also read, on the shelf at `home` now (not on loan)."""
    row = db.execute("SELECT also FROM recommendations WHERE item_id = ?", [item_id]).fetchone()
    if not row:
        return ()
    out = []
    for other in json.loads(row[0]):
        found = db.execute("SELECT title, author, call_number FROM items WHERE id = ? AND home = ? AND"
                           " status = 'available' AND id NOT IN (SELECT item_id FROM loans)", [other, home]).fetchone()
        if found:
            out.append(Book(title=found[0], author=found[1] or "", call_number=found[2] or ""))
        if len(out) == limit:
            break
    return tuple(out)


def showcase_list(db, name: str) -> tuple[str | None, list]:
    """One showcase list: its month (None for lists of no month) and entries."""
    row = db.execute("SELECT month, entries FROM showcase WHERE list = ?", [name]).fetchone()
    return (row[0], json.loads(row[1])) if row else (None, [])


def books_by_id(db, ids: list[str]) -> list[Book]:
    """The books of `ids` the kiosk knows, in that order."""
    out = []
    for item_id in ids:
        row = db.execute("SELECT title, author, call_number FROM items WHERE id = ?", [item_id]).fetchone()
        if row:
            out.append(Book(title=row[0], author=row[1] or "", call_number=row[2] or ""))
    return out
