"""Stocktakes: what the kiosks counted on a home's shelves, against what belongs there.

Each `inventory` record says which shelf counted the book (`details.shelf`,
the counting kiosk's home). For a home and a day from which counts are taken,
every book is in one state (`STATES`): seen where it belongs, missing,
misplaced here, seen at another home, found on the shelf while on loan (the
merge closed the loan, flagged `seen_in_stocktake`), or out of circulation
but seen. Books on loan that were not seen, and books withdrawn, lost or in
repair that were not seen, are where they are expected to be: no row.

Closing a stocktake marks its missing books lost in one step (audited, each
book in the repair and withdrawal register); a book so marked that any kiosk
sees again is back in circulation by itself.
"""

from __future__ import annotations

import json
from typing import Iterable
from kiosk.domain.records import SHELF_KINDS
from sync.server.db.audit import audit
from sync.server.db.homes import check_home_id
from sync.server.db.schema import CentralError, iso, next_revs, utc_now

STATES = ("missing", "misplaced", "seen_elsewhere", "on_loan_seen", "unavailable_seen", "seen")
REPORT_KEYS = ("item", "title", "home", "state", "kiosk", "seen_at")
OUT_OF_CIRCULATION = ("repair", "withdrawn", "lost")
CHUNK = 500  # ids per IN (...) list


def store_count(db, kiosk_id: str, row: dict) -> bool:
    """Keep a newly stored record of a book counted on a shelf; whether its item's loans need replaying.

    They do when the kiosk closed a loan, or the central store holds one: a
    stocktake of thousands of books on the shelf changes nothing else.
    """
    if row["kind"] not in SHELF_KINDS:
        return False
    details = json.loads(row["details"] or "{}")
    if details.get("shelf"):  # counted before shelves were recorded: no home to count it for
        db.execute("INSERT INTO shelf_counts (kiosk_id, seq, item_id, shelf, corrected_at, on_loan, unavailable)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [kiosk_id, row["seq"], row["item_id"], details["shelf"], row["corrected_at"],
                    int(bool(details.get("on_loan"))), int(details.get("status") in OUT_OF_CIRCULATION)])
    if details.get("on_loan"):
        return True
    return db.execute("SELECT 1 FROM loans WHERE item_id = ?", [row["item_id"]]).fetchone() is not None


def _sightings(db, home: str, since: str) -> tuple[dict, dict]:
    """The first count of each book on `home`'s shelves, and on any other, since `since`.

    Each is [time, kiosk, on loan, out of circulation]: on loan when any count
    found it so (the kiosk knew, or the merge closed a loan with it).
    """
    closed = {tuple(r) for r in db.execute("SELECT kiosk_id, seq FROM merge_flags WHERE reason = 'seen_in_stocktake'")}
    here: dict[str, list] = {}
    elsewhere: dict[str, list] = {}
    # In index order, unsorted: the first count is found by comparing, cheaper than sorting 20,000 rows.
    for kiosk_id, seq, item_id, shelf, at, on_loan, unavailable in db.execute(
            "SELECT kiosk_id, seq, item_id, shelf, corrected_at, on_loan, unavailable FROM shelf_counts"
            " WHERE corrected_at >= ?", [since]):
        counts = here if shelf == home else elsewhere
        found = counts.get(item_id)
        if found is None:
            counts[item_id] = [at, kiosk_id, bool(on_loan) or (kiosk_id, seq) in closed, bool(unavailable)]
            continue
        if (at, kiosk_id) < (found[0], found[1]):
            found[0], found[1] = at, kiosk_id
        found[2] = found[2] or bool(on_loan) or (kiosk_id, seq) in closed
        found[3] = found[3] or bool(unavailable)
    return here, elsewhere


def _books(db, home: str, counted_here: Iterable[str]) -> list[tuple]:
    """(id, title, call_number, home, status) of the home's books in shelf order, then of the other books
    counted on its shelves."""
    columns = "SELECT id, title, call_number, home, status FROM items WHERE "
    books = db.execute(columns + "home = ? ORDER BY call_number, id", [home]).fetchall()
    ours = {book[0] for book in books}
    others = sorted(set(counted_here) - ours)
    for start in range(0, len(others), CHUNK):
        part = others[start:start + CHUNK]
        books += db.execute(columns + f"id IN ({', '.join('?' * len(part))})", part).fetchall()
    return books


def _state(home: str, book: tuple, on_loan: bool, here: list | None, elsewhere: list | None):
    """A book's state in the stocktake of `home` and the count it rests on; None when it has no row."""
    belongs, status = book[3], book[4]
    if here is not None:
        if here[3] or status in OUT_OF_CIRCULATION:
            return "unavailable_seen", here
        if here[2]:
            return "on_loan_seen", here
        return ("seen" if belongs == home else "misplaced"), here
    if belongs != home:
        return None
    if elsewhere is not None:
        return "seen_elsewhere", elsewhere
    if on_loan or status != "available":
        return None  # with a student, or out of circulation: not expected on the shelf
    return "missing", None


def _classified(db, home: str, since: str) -> dict[str, list[tuple]]:
    """Each state's books as (book, count) in shelf order: book (id, title, call_number, home, status),
    count [time, kiosk, on loan, out of circulation] or None."""
    check_home_id(home)
    with db.atomic():  # one snapshot of the counts, the flags, the items and the loans
        here, elsewhere = _sightings(db, home, since)
        on_loan = {r[0] for r in db.execute("SELECT item_id FROM loans")}
        books = _books(db, home, here)
    by_state: dict[str, list[tuple]] = {state: [] for state in STATES}
    for book in books:
        found = _state(home, book, book[0] in on_loan, here.get(book[0]), elsewhere.get(book[0]))
        if found is not None:
            by_state[found[0]].append((book, found[1]))
    for state in ("misplaced", "on_loan_seen", "unavailable_seen"):  # may mix the home's books and others'
        by_state[state].sort(key=lambda pair: (pair[0][2] or "", pair[0][0]))
    return by_state


def _row(state: str, book: tuple, seen: list | None) -> dict:
    return {"item": book[0], "title": book[1] or "", "home": book[3] or "", "state": state,
            "kiosk": seen[1] if seen else "", "seen_at": seen[0] if seen else ""}


def reconcile(db, home: str, since: str) -> list[dict]:
    """Every book of the stocktake of `home` counted since `since` (a date or time): rows of `REPORT_KEYS`,
    in `STATES` order and each state in shelf order; `kiosk` and `seen_at` are '' for a book not seen."""
    return [dict(zip(REPORT_KEYS, row)) for row in reconcile_rows(db, home, since)]


def reconcile_rows(db, home: str, since: str) -> list[tuple]:
    """`reconcile`'s rows as tuples in the order of `REPORT_KEYS` (for a CSV of 30,000 books)."""
    by_state = _classified(db, home, since)
    return [(book[0], book[1] or "", book[3] or "", state, seen[1] if seen else "", seen[0] if seen else "")
            for state in STATES for book, seen in by_state[state]]


def stocktake_lists(db, home: str, since: str, shown: int) -> tuple[dict[str, int], dict[str, list[dict]]]:
    """For the page: how many books are in each state, and the first `shown` of each with their call numbers."""
    by_state = _classified(db, home, since)
    counts = {state: len(pairs) for state, pairs in by_state.items()}
    return counts, {state: [dict(_row(state, book, seen), call_number=book[2] or "") for book, seen in pairs[:shown]]
                    for state, pairs in by_state.items()}


def close_stocktake(db, librarian: str, home: str, since: str, confirmed: int) -> tuple[int, int]:
    """Mark the stocktake's missing books lost, as the librarian confirmed `confirmed` of them.

    One transaction; refused when the count changed since she looked (a
    kiosk synced meanwhile). Returns the stocktake's number and the books
    marked lost.
    """
    with db.atomic():
        missing = [r["item"] for r in reconcile(db, home, since) if r["state"] == "missing"]
        if len(missing) != confirmed:
            raise CentralError(f"the stocktake of {home} changed since you looked: missing books now {len(missing)},"
                               f" not the {confirmed} you confirmed; look at the list again")
        now = iso(utc_now())
        number = db.execute("INSERT INTO stocktakes (home, since, closed_at, closed_by, missing) VALUES"
                            " (?, ?, ?, ?, ?) RETURNING id", [home, since, now, librarian, len(missing)]).fetchone()[0]
        first = next_revs(db, len(missing)) if missing else 0
        for offset, item_id in enumerate(missing):
            db.execute("UPDATE items SET status = 'lost', unavailable_since = ?, rev = ? WHERE id = ?",
                       [now, first + offset, item_id])
            db.execute("INSERT INTO stocktake_lost (stocktake_id, item_id) VALUES (?, ?)", [number, item_id])
            audit(db, librarian, "item lost", item_id, f"stocktake {number} of {home}: not found since {since}")
        audit(db, librarian, "stocktake closed", f"stocktake {number}",
              f"{home} since {since}: {len(missing)} missing books marked lost")
    return number, len(missing)


def restore_found(db, kiosk_id: str, rows: list[dict]) -> None:
    """Books a stocktake marked lost that a kiosk has seen again since: available again, in the register."""
    waiting = {r[0]: r[1:] for r in db.execute(
        "SELECT sl.item_id, sl.stocktake_id, s.since FROM stocktake_lost sl JOIN stocktakes s"
        " ON s.id = sl.stocktake_id WHERE sl.found_at IS NULL").fetchall()}
    for row in rows:
        item_id = row["item_id"]
        if item_id not in waiting or row["corrected_at"] < waiting[item_id][1]:
            continue
        number = waiting.pop(item_id)[0]
        db.execute("UPDATE stocktake_lost SET found_at = ?, found_by = ? WHERE item_id = ? AND found_at IS NULL",
                   [row["corrected_at"], kiosk_id, item_id])
        changed = db.execute("UPDATE items SET status = 'available', unavailable_since = NULL, rev = ? WHERE id = ?"
                             " AND status = 'lost'", [next_revs(db, 1), item_id]).rowcount
        if changed:
            audit(db, f"kiosk {kiosk_id}", "item found", item_id,
                  f"missing in stocktake {number}; seen at {kiosk_id} ({row['kind']}) {row['corrected_at']}")


def stocktakes(db, limit: int = 20) -> list[dict]:
    """The stocktakes closed, newest first, with how many of their missing books were found since."""
    return list(db.query(
        "SELECT s.id, s.home, s.since, s.closed_at, s.closed_by, s.missing, COUNT(sl.found_at) AS found"
        " FROM stocktakes s LEFT JOIN stocktake_lost sl ON sl.stocktake_id = s.id"
        " GROUP BY s.id, s.home, s.since, s.closed_at, s.closed_by, s.missing ORDER BY s.id DESC LIMIT ?", [limit]))


def still_missing(db, item_id: str | None = None) -> list[dict]:
    """Books the last stocktakes marked lost and no kiosk has seen since (one book's, with `item_id`)."""
    sql = ("SELECT sl.item_id, items.title, items.call_number, items.home, sl.stocktake_id, s.closed_at, s.since"
           " FROM stocktake_lost sl JOIN stocktakes s ON s.id = sl.stocktake_id LEFT JOIN items"
           " ON items.id = sl.item_id WHERE sl.found_at IS NULL")
    if item_id is not None:
        return list(db.query(sql + " AND sl.item_id = ? ORDER BY s.id DESC", [item_id]))
    return list(db.query(sql + " ORDER BY s.id DESC, items.call_number, sl.item_id"))
