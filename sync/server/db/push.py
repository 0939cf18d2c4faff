"""A kiosk's pushed batch: stored exactly once by (kiosk id, seq), merged per item, acknowledged."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Optional

from kiosk.domain.records import LOAN_KINDS, RECORD_FIELDS
from sync.server import merge
from sync.server.db.schema import Conflict, iso, next_revs, utc_now


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
    sent_at = datetime.fromisoformat(batch["sent_at"])
    offset = (now - sent_at).total_seconds()
    rows = [_record_row(kiosk_id, r) for r in batch["records"]]
    with db.atomic():
        acked = db.execute(f"SELECT acked_seq FROM kiosks WHERE id = ?{db.for_update}", [kiosk_id]).fetchone()[0]
        db.execute("INSERT OR REPLACE INTO boots (kiosk_id, boot_id, server_time, monotonic) VALUES (?, ?, ?, ?)",
                   [kiosk_id, batch["boot_id"], iso(now), batch["monotonic"]])
        anchors = {r["boot_id"]: (datetime.fromisoformat(r["server_time"]), r["monotonic"])
                   for r in db.query("SELECT boot_id, server_time, monotonic FROM boots WHERE kiosk_id = ?",
                                     [kiosk_id])}
        new = _new_rows(db, kiosk_id, rows)
        classes = _classes(db, {row["patron_id"] for row in new if row["patron_id"]})
        for row in new:
            at = datetime.fromisoformat(row["at"])
            row["corrected_at"] = iso(merge.corrected_time(at, bool(row["trusted"]), row["boot_id"],
                                                           row["monotonic"], anchors, offset))
            row["received_at"] = iso(now)
            row["class_name"] = classes.get(row["patron_id"]) if row["patron_id"] else None
        db["log"].insert_all(new)
        touched = sorted({row["item_id"] for row in new if row["kind"] in LOAN_KINDS and row["item_id"]})
        merged = [(item_id, _remerge_flags(db, item_id)) for item_id in touched]
        first = next_revs(db, len(merged)) if merged else 0
        for offset_rev, (item_id, loan) in enumerate(merged):
            _set_loan(db, item_id, loan, first + offset_rev)
        acked = _advance_acked(db, kiosk_id, acked)
        status = batch.get("status") or {}
        db.execute(
            "UPDATE kiosks SET last_seen = ?, last_sync = ?, acked_seq = ?, pending = ?, clock_offset = ?,"
            " boot_id = ?, sent_monotonic = ?, server_time_at_push = ?, reader_ok = ?, version = ?,"
            " last_error = ?, status = ? WHERE id = ?",
            [iso(now), iso(now), acked, status.get("pending"), offset, batch["boot_id"], batch["monotonic"],
             iso(now), None if status.get("reader_ok") is None else int(bool(status["reader_ok"])),
             status.get("version"), status.get("last_error"), json.dumps(status, sort_keys=True), kiosk_id])
    return {"acked_seq": acked, "stored": len(new), "duplicates": len(rows) - len(new), "server_time": iso(now),
            "clock_offset": round(offset, 3)}


def _new_rows(db, kiosk_id: str, rows: list[dict]) -> list[dict]:
    """The rows not held yet; a held one with other content is a `Conflict` (and a row sent twice counts once)."""
    seqs = sorted({row["seq"] for row in rows})
    held = {}
    for first in range(0, len(seqs), 500):
        part = seqs[first:first + 500]
        held.update((r["seq"], r) for r in db.query(
            f"SELECT {', '.join(RECORD_FIELDS)} FROM log WHERE kiosk_id = ? AND seq IN ({', '.join('?' * len(part))})",
            [kiosk_id, *part]))
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
    ids = sorted(patron_ids)
    found = {}
    for first in range(0, len(ids), 500):
        part = ids[first:first + 500]
        found.update(db.execute(f"SELECT id, class_name FROM patrons WHERE id IN ({', '.join('?' * len(part))})",
                                part).fetchall())
    return found


def _advance_acked(db, kiosk_id: str, acked: int) -> int:
    """The highest sequence number held without a gap from 1."""
    for (seq,) in db.execute("SELECT seq FROM log WHERE kiosk_id = ? AND seq > ? ORDER BY seq", [kiosk_id, acked]):
        if seq != acked + 1:
            break
        acked = seq
    return acked


def _when(text: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(text) if text else None


def remerge_item(db, item_id: str) -> None:
    """Replay every loan record of one item; update its loan and its flags (inside the caller's transaction)."""
    loan = _remerge_flags(db, item_id)
    _set_loan(db, item_id, loan, next_revs(db, 1))


def _remerge_flags(db, item_id: str) -> Optional[merge.MergedLoan]:
    """Replay one item's loan records, holding the item until the commit; its flags are stored, its loan returned.

    The lock comes before the read: a batch merging the same item meanwhile
    waits, then reads this batch's records too, so the last merge has them all.
    """
    db.lock(f"item:{item_id}")
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
    # Flags not yet resolved are recomputed; a librarian's resolution stays.
    db.execute("DELETE FROM merge_flags WHERE item_id = ? AND resolution IS NULL", [item_id])
    for (kiosk_id, seq), (reason, detail) in result.flags.items():
        db.execute("INSERT OR IGNORE INTO merge_flags (kiosk_id, seq, item_id, reason, detail) VALUES (?, ?, ?, ?, ?)",
                   [kiosk_id, seq, item_id, reason, detail])
    return result.loan


def _set_loan(db, item_id: str, loan: Optional[merge.MergedLoan], rev: int) -> None:
    """Store an item's merged loan (or its absence) under the fresh change number `rev`.

    Always a fresh one, even when nothing changed here: the kiosk that sent
    the records may hold a loan the merge has since undone (a book it lent,
    returned meanwhile at a kiosk that had not heard of the loan), and it
    learns the outcome only from a change after its cursor.
    """
    if loan is None:
        db.execute("DELETE FROM loans WHERE item_id = ?", [item_id])
        db.execute("INSERT OR REPLACE INTO loans_removed (item_id, rev) VALUES (?, ?)", [item_id, rev])
        return
    db.execute("INSERT OR REPLACE INTO loans (item_id, patron_id, due, checked_out, renewals, kiosk_id, seq, rev)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [item_id, loan.patron_id, loan.due, iso(loan.checked_out), loan.renewals, loan.kiosk_id, loan.seq,
                rev])
    db.execute("DELETE FROM loans_removed WHERE item_id = ?", [item_id])
