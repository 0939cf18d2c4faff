"""A kiosk's pushed batch: stored exactly once by (kiosk id, seq), merged per item, acknowledged.

A checkout or renewal stamped by an untrusted clock carries a due date the
kiosk computed from its floor (the last trusted time it knew); the store
recomputes it from the record's corrected time and keeps it beside the
record as `corrected_due`, which the merge and the log pages use.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

from sqlite_utils.utils import chunks

from kiosk.domain import rules
from kiosk.domain.records import LOAN_KINDS, RECORD_FIELDS
from sync.server import merge
from sync.server.db import homes, stocktake
from sync.server.db.catalog import get_rules
from sync.server.db.kiosks import note_contact
from sync.server.db.remerge import marks, replay_items, store_loans
from sync.server.db.schema import Conflict, epoch, iso, next_revs, utc_now


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
    Two batches of one kiosk take turns (its row is locked); batches of
    different kiosks run side by side on PostgreSQL and meet only at an item
    both touched (merged one at a time, in item order) and at the change
    numbers, taken last so that the counter is held only for the commit.
    """
    now = now or utc_now()
    rows = [_record_row(kiosk_id, r) for r in batch["records"]]
    with db.atomic():
        acked = db.execute(f"SELECT acked_seq FROM kiosks WHERE id = ?{db.for_update}", [kiosk_id]).fetchone()[0]
        offset = note_contact(db, kiosk_id, batch, now)
        anchors = {r["boot_id"]: (datetime.fromisoformat(r["server_time"]), r["monotonic"])
                   for r in db.query("SELECT boot_id, server_time, monotonic FROM boots WHERE kiosk_id = ?",
                                     [kiosk_id])}
        new = _new_rows(db, kiosk_id, rows)
        classes = _classes(db, {row["patron_id"] for row in new if row["patron_id"]})
        policy = None
        for row in new:
            at = datetime.fromisoformat(row["at"])
            row["corrected_at"] = iso(merge.corrected_time(at, bool(row["trusted"]), row["boot_id"],
                                                           row["monotonic"], anchors, offset))
            row["received_at"] = iso(now)
            row["corrected_due"] = None
            if not row["trusted"] and row["kind"] in ("checkout", "renew"):
                policy = policy or get_rules(db)
                row["corrected_due"] = _corrected_due(db, row, policy)
            row["class_name"] = classes.get(row["patron_id"]) if row["patron_id"] else None
        db["log"].insert_all(new)
        touched = {row["item_id"] for row in new
                   if row["item_id"] and (row["kind"] in LOAN_KINDS or stocktake.store_count(db, kiosk_id, row))}
        # The books are held first (item order, as every batch takes them): a book found again is back in
        # circulation, and a rehomed one in its new home, before its loans are replayed.
        db.lock(f"item:{row['item_id']}" for row in new if row["item_id"])
        stocktake.restore_found(db, kiosk_id, new)
        homes.apply_rehomes(db, kiosk_id, new)
        loans = replay_items(db, touched)
        store_loans(db, loans, next_revs(db, len(loans)) if loans else 0)
        acked = _advance_acked(db, kiosk_id, acked)
        db.execute("UPDATE kiosks SET last_sync = ?, acked_seq = ? WHERE id = ?", [iso(now), acked, kiosk_id])
    return {"acked_seq": acked, "stored": len(new), "duplicates": len(rows) - len(new), "server_time": iso(now),
            "clock_offset": round(offset, 3), "epoch": epoch(db)}


def _corrected_due(db, row: dict, policy) -> Optional[str]:
    """The due date from the record's corrected time, where it differs from the one the kiosk gave."""
    due = json.loads(row["details"] or "{}").get("due")
    found = db.execute("SELECT type FROM patrons WHERE id = ?", [row["patron_id"]]).fetchone()
    # The library's day is the local day where the store runs, as it is where the kiosks run.
    day = datetime.fromisoformat(row["corrected_at"]).astimezone().date()
    fixed = rules.due_date(policy, found[0] if found and found[0] else "student", day).isoformat()
    return fixed if fixed != due else None


def _new_rows(db, kiosk_id: str, rows: list[dict]) -> list[dict]:
    """The rows not held yet; a held one with other content is a `Conflict` (and a row sent twice counts once)."""
    seqs = {row["seq"] for row in rows}
    if not seqs:
        return []  # a push of no records: a report of the kiosk's health alone
    # A batch is a run of sequence numbers: one range read, not one lookup a record.
    held = {r["seq"]: r for r in db.query(f"SELECT {', '.join(RECORD_FIELDS)} FROM log WHERE kiosk_id = ?"
                                          " AND seq BETWEEN ? AND ?", [kiosk_id, min(seqs), max(seqs)])
            if r["seq"] in seqs}
    new = []
    for row in rows:
        if row["seq"] in held:
            if not _same(held[row["seq"]], row):
                raise Conflict(f"record {kiosk_id} #{row['seq']} is already held with other content")
            continue
        held[row["seq"]] = row
        new.append(row)
    return new


def _classes(db, patron_ids: set[str]) -> dict[str, Optional[str]]:
    """Each patron's class now: a record keeps the class its patron was in when it was pushed."""
    found = {}
    for part in chunks(sorted(patron_ids), 500):
        part = list(part)
        found.update(db.execute(f"SELECT id, class_name FROM patrons WHERE id IN ({marks(part)})", part).fetchall())
    return found


def _advance_acked(db, kiosk_id: str, acked: int) -> int:
    """The highest sequence number held without a gap from 1."""
    for (seq,) in db.execute("SELECT seq FROM log WHERE kiosk_id = ? AND seq > ? ORDER BY seq", [kiosk_id, acked]):
        if seq != acked + 1:
            break
        acked = seq
    return acked
