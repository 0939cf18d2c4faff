"""A kiosk's pushed batch: stored exactly once by (kiosk id, seq), merged per item, acknowledged.

A checkout or renewal stamped by an untrusted clock carries a due date the
kiosk computed from its floor (the last trusted time it knew); the store
recomputes it from the record's corrected time and keeps it beside the
record as `corrected_due`, which the merge and the log pages use.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Optional

from kiosk.domain import rules
from kiosk.domain.records import LOAN_KINDS, RECORD_FIELDS
from sync.server import merge
from sync.server.db.catalog import get_rules
from sync.server.db.kiosks import note_contact
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
    """
    now = now or utc_now()
    rows = [_record_row(kiosk_id, r) for r in batch["records"]]
    stored = duplicates = 0
    with db.atomic():
        offset = note_contact(db, kiosk_id, batch, now)
        anchors = {r["boot_id"]: (datetime.fromisoformat(r["server_time"]), r["monotonic"])
                   for r in db.query("SELECT boot_id, server_time, monotonic FROM boots WHERE kiosk_id = ?",
                                     [kiosk_id])}
        policy = None
        touched: set[str] = set()
        for row in rows:
            held = db.execute("SELECT * FROM log WHERE kiosk_id = ? AND seq = ?", [kiosk_id, row["seq"]])
            held_row = held.fetchone()
            if held_row is not None:
                held_dict = dict(zip([c[0] for c in held.description], held_row))
                if not _same(held_dict, row):
                    raise Conflict(f"record {kiosk_id} #{row['seq']} is already held with other content")
                duplicates += 1
                continue
            at = datetime.fromisoformat(row["at"])
            row["corrected_at"] = iso(merge.corrected_time(at, bool(row["trusted"]), row["boot_id"],
                                                           row["monotonic"], anchors, offset))
            row["received_at"] = iso(now)
            if not row["trusted"] and row["kind"] in ("checkout", "renew"):
                policy = policy or get_rules(db)
                row["corrected_due"] = _corrected_due(db, row, policy)
            if row["patron_id"]:
                found = db.execute("SELECT class_name FROM patrons WHERE id = ?", [row["patron_id"]]).fetchone()
                row["class_name"] = found[0] if found else None
            db["log"].insert(row)
            stored += 1
            if row["kind"] in LOAN_KINDS and row["item_id"]:
                touched.add(row["item_id"])
        for item_id in sorted(touched):
            remerge_item(db, item_id)
        acked = _advance_acked(db, kiosk_id)
        db.execute("UPDATE kiosks SET last_sync = ?, acked_seq = ? WHERE id = ?", [iso(now), acked, kiosk_id])
    return {"acked_seq": acked, "stored": stored, "duplicates": duplicates, "server_time": iso(now),
            "clock_offset": round(offset, 3), "epoch": epoch(db)}


def _corrected_due(db, row: dict, policy) -> Optional[str]:
    """The due date from the record's corrected time, where it differs from the one the kiosk gave."""
    due = json.loads(row["details"] or "{}").get("due")
    found = db.execute("SELECT type FROM patrons WHERE id = ?", [row["patron_id"]]).fetchone()
    # The library's day is the local day where the store runs, as it is where the kiosks run.
    day = datetime.fromisoformat(row["corrected_at"]).astimezone().date()
    fixed = rules.due_date(policy, found[0] if found and found[0] else "student", day).isoformat()
    return fixed if fixed != due else None


def _advance_acked(db, kiosk_id: str) -> int:
    """The highest sequence number held without a gap from 1."""
    acked = db.execute("SELECT acked_seq FROM kiosks WHERE id = ?", [kiosk_id]).fetchone()[0]
    for (seq,) in db.execute("SELECT seq FROM log WHERE kiosk_id = ? AND seq > ? ORDER BY seq", [kiosk_id, acked]):
        if seq != acked + 1:
            break
        acked = seq
    return acked


def _when(text: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(text) if text else None


def remerge_item(db, item_id: str) -> None:
    """Replay every loan record of one item; update its loan and its flags."""
    recs = []
    # A record the librarian reversed is kept in the log but no longer applied.
    for row in db.query("SELECT kiosk_id, seq, kind, corrected_at, patron_id, details, corrected_due FROM log"
                        " WHERE item_id = ? AND kind IN ('checkout', 'return', 'renew', 'not_on_loan')"
                        " AND NOT EXISTS (SELECT 1 FROM merge_flags m WHERE m.kiosk_id = log.kiosk_id"
                        " AND m.seq = log.seq AND m.resolution = 'reverse')", [item_id]):
        details = json.loads(row["details"] or "{}")
        recs.append(merge.Rec(row["kiosk_id"], row["seq"], row["kind"], datetime.fromisoformat(row["corrected_at"]),
                              row["patron_id"], row["corrected_due"] or details.get("due"), details.get("renewals")))
    patron_ids = {r.patron_id for r in recs if r.patron_id}
    patrons = {}
    for pid in patron_ids:
        row = db.execute("SELECT blocked_since, expires FROM patrons WHERE id = ?", [pid]).fetchone()
        if row:
            patrons[pid] = merge.PatronFacts(_when(row[0]), date.fromisoformat(row[1]) if row[1] else None)
    item_row = db.execute("SELECT unavailable_since FROM items WHERE id = ?", [item_id]).fetchone()
    result = merge.replay(recs, patrons, merge.ItemFacts(_when(item_row[0]) if item_row else None))
    _set_loan(db, item_id, result.loan)
    # Flags not yet resolved are recomputed; a librarian's resolution stays.
    db.execute("DELETE FROM merge_flags WHERE item_id = ? AND resolution IS NULL", [item_id])
    for (kiosk_id, seq), (reason, detail) in result.flags.items():
        db.execute("INSERT OR IGNORE INTO merge_flags (kiosk_id, seq, item_id, reason, detail) VALUES (?, ?, ?, ?, ?)",
                   [kiosk_id, seq, item_id, reason, detail])


def _set_loan(db, item_id: str, loan: Optional[merge.MergedLoan]) -> None:
    """Store an item's merged loan (or its absence) under a fresh change number.

    Always a fresh one, even when nothing changed here: the kiosk that sent
    the records may hold a loan the merge has since undone (a book it lent,
    returned meanwhile at a kiosk that had not heard of the loan), and it
    learns the outcome only from a change after its cursor.
    """
    rev = next_revs(db, 1)
    if loan is None:
        db.execute("DELETE FROM loans WHERE item_id = ?", [item_id])
        db.execute("INSERT OR REPLACE INTO loans_removed (item_id, rev) VALUES (?, ?)", [item_id, rev])
        return
    db.execute("INSERT OR REPLACE INTO loans (item_id, patron_id, due, checked_out, renewals, kiosk_id, seq, rev)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [item_id, loan.patron_id, loan.due, iso(loan.checked_out), loan.renewals, loan.kiosk_id, loan.seq,
                rev])
    db.execute("DELETE FROM loans_removed WHERE item_id = ?", [item_id])
