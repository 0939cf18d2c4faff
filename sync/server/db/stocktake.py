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


def may_close_loan(db, row: dict) -> bool:
    """Whether a newly stored record of a book counted on a shelf needs its item's loans replayed.

    Only when the kiosk closed a loan, or the central store holds one: a
    stocktake of thousands of books on the shelf changes nothing else.
    """
    if row["kind"] not in SHELF_KINDS:
        return False
    if json.loads(row["details"] or "{}").get("on_loan"):
        return True
    return db.execute("SELECT 1 FROM loans WHERE item_id = ?", [row["item_id"]]).fetchone() is not None


def _sightings(db, home: str, since: str) -> tuple[dict, dict]:
    """The first count of each book on this home's shelf, and at any other shelf, since `since`."""
    closed = {tuple(r) for r in db.execute("SELECT kiosk_id, seq FROM merge_flags WHERE reason = 'seen_in_stocktake'")}
    here: dict[str, dict] = {}
    elsewhere: dict[str, dict] = {}
    for kiosk_id, seq, item_id, at, text in db.execute(
            "SELECT kiosk_id, seq, item_id, corrected_at, details FROM log WHERE kind = 'inventory'"
            " AND corrected_at >= ? ORDER BY corrected_at, kiosk_id, seq", [since]).fetchall():
        details = json.loads(text or "{}")
        shelf = details.get("shelf")
        if not shelf or not item_id:
            continue  # counted before shelves were recorded: no home to count it for
        found = (here if shelf == home else elsewhere).setdefault(
            item_id, {"kiosk": kiosk_id, "seen_at": at, "on_loan": False, "unavailable": False})
        found["on_loan"] |= bool(details.get("on_loan")) or (kiosk_id, seq) in closed
        found["unavailable"] |= details.get("status") in OUT_OF_CIRCULATION
    return here, elsewhere


def _items(db, home: str, others: Iterable[str]) -> dict[str, dict]:
    """The books of `home` and the books `others`, with their loans."""
    sql = ("SELECT items.id, items.title, items.call_number, items.home, items.status,"
           " loans.item_id IS NOT NULL AS on_loan FROM items LEFT JOIN loans ON loans.item_id = items.id WHERE ")
    found = {r["id"]: r for r in db.query(sql + "items.home = ?", [home])}
    others = [i for i in others if i not in found]
    for start in range(0, len(others), CHUNK):
        part = others[start:start + CHUNK]
        found.update((r["id"], r) for r in db.query(sql + f"items.id IN ({', '.join('?' * len(part))})", part))
    return found


def _state(home: str, item: dict, here: dict | None, elsewhere: dict | None) -> tuple[str, dict | None] | None:
    """A book's state in the stocktake of `home` and the count it rests on; None when it has no row."""
    if here is not None:
        if here["unavailable"] or item["status"] in OUT_OF_CIRCULATION:
            return "unavailable_seen", here
        if here["on_loan"]:
            return "on_loan_seen", here
        return ("seen" if item["home"] == home else "misplaced"), here
    if item["home"] != home:
        return None
    if elsewhere is not None:
        return "seen_elsewhere", elsewhere
    if item["on_loan"] or item["status"] != "available":
        return None  # with a student, or out of circulation: not expected on the shelf
    return "missing", None


def reconcile(db, home: str, since: str) -> list[dict]:
    """Every book of the stocktake of `home` counted since `since` (a date or time), in `STATES` order.

    Rows have `REPORT_KEYS` and the book's `call_number`; `kiosk` and
    `seen_at` are '' for a book not seen.
    """
    check_home_id(home)
    with db.atomic():  # one snapshot of the log, the flags, the items and the loans
        here, elsewhere = _sightings(db, home, since)
        items = _items(db, home, here)
    rows = []
    for item_id, item in items.items():
        found = _state(home, item, here.get(item_id), elsewhere.get(item_id))
        if found is None:
            continue
        state, seen = found
        rows.append({"item": item_id, "title": item["title"] or "", "home": item["home"] or "", "state": state,
                     "kiosk": seen["kiosk"] if seen else "", "seen_at": seen["seen_at"] if seen else "",
                     "call_number": item["call_number"] or ""})
    order = {state: n for n, state in enumerate(STATES)}
    rows.sort(key=lambda r: (order[r["state"]], r["call_number"], r["item"]))
    return rows


def state_counts(rows: list[dict]) -> dict[str, int]:
    """How many books are in each state."""
    out = {state: 0 for state in STATES}
    for row in rows:
        out[row["state"]] += 1
    return out


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
