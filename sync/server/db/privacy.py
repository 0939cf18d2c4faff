"""Privacy: returned loans lose their link to the student after the school's retention."""

from __future__ import annotations

from datetime import date

from sync.server.db.audit import audit


def forget_returned(db, before: date) -> int:
    """Cut the link to the student from loans returned before `before`; they stay as counts.

    A loan still open keeps its link. Returns how many loans were reduced to counts.
    """
    cutoff = before.isoformat()
    with db.atomic():
        old = list(db.query(
            "SELECT kiosk_id, seq, class_name, item_id, substr(corrected_at, 1, 7) AS month FROM log"
            " WHERE kind = 'checkout' AND patron_id IS NOT NULL AND corrected_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM loans WHERE loans.kiosk_id = log.kiosk_id AND loans.seq = log.seq)",
            [cutoff]))
        for row in old:
            db.execute("INSERT INTO reading_counts (month, class_name, item_id, loans) VALUES (?, ?, ?, 1)"
                       " ON CONFLICT(month, class_name, item_id) DO UPDATE SET loans = reading_counts.loans + 1",
                       [row["month"], row["class_name"] or "", row["item_id"]])
        open_loans = {(r[0], r[1]) for r in db.execute("SELECT patron_id, item_id FROM loans")}
        for kind in ("checkout", "return", "renew", "not_on_loan", "refused"):
            rows = db.execute("SELECT kiosk_id, seq, patron_id, item_id FROM log WHERE kind = ? AND corrected_at < ?"
                              " AND (patron_id IS NOT NULL OR json_extract(details, '$.from_patron') IS NOT NULL)",
                              [kind, cutoff]).fetchall()
            for kiosk_id, seq, patron_id, item_id in rows:
                if (patron_id, item_id) in open_loans:
                    continue
                db.execute("UPDATE log SET patron_id = NULL, details = json_remove(details, '$.from_patron')"
                           " WHERE kiosk_id = ? AND seq = ?", [kiosk_id, seq])
        audit(db, "kiosk-central", "forget", f"returned loans before {cutoff}", f"{len(old)} loans")
    return len(old)
