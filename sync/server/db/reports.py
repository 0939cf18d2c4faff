"""What the librarian reads: current loans, the merged log, flagged records, unknown tags, reading."""

from __future__ import annotations

from datetime import date

from kiosk.domain import reading
from typing import Iterable, Optional

from sync.server.db.audit import audit
from sync.server.db.remerge import remerge_item
from sync.server.db.schema import CentralError, iso, next_revs, utc_now


def current_loans(db, today: date) -> list[dict]:
    """Every current loan with its patron, class, title and days overdue."""
    rows = db.query(
        "SELECT loans.item_id, items.title, loans.patron_id, patrons.name AS patron_name, patrons.class_name,"
        " loans.due, loans.checked_out, loans.renewals, loans.kiosk_id, items.call_number, patrons.type AS patron_type"
        " FROM loans"
        " LEFT JOIN items ON items.id = loans.item_id LEFT JOIN patrons ON patrons.id = loans.patron_id"
        " ORDER BY patrons.class_name, patrons.name, loans.due")
    out = []
    for row in rows:
        row["days_overdue"] = max(0, (today - date.fromisoformat(row["due"])).days) if row["due"] else 0
        out.append(row)
    return out


def log_records(db, limit: Optional[int] = None) -> Iterable[dict]:
    """The merged log in merge order."""
    sql = ("SELECT kiosk_id, seq, kind, at, corrected_at, trusted, patron_id, item_id, details, corrected_due,"
           " flagged FROM log ORDER BY corrected_at, kiosk_id, seq")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    for row in db.query(sql):
        row["trusted"], row["flagged"] = bool(row["trusted"]), bool(row["flagged"])
        yield row


def flagged(db) -> list[dict]:
    """Records for the librarian: flagged by the merge, or by the kiosk itself."""
    return list(db.query(
        "SELECT log.kiosk_id, log.seq, log.kind, log.corrected_at, log.patron_id, log.item_id,"
        " COALESCE(merge_flags.reason, 'kiosk') AS reason, merge_flags.detail, merge_flags.resolution,"
        " merge_flags.resolved_by, log.details FROM log"
        " LEFT JOIN merge_flags ON merge_flags.kiosk_id = log.kiosk_id AND merge_flags.seq = log.seq"
        " WHERE merge_flags.seq IS NOT NULL OR log.flagged = 1"
        " ORDER BY log.corrected_at, log.kiosk_id, log.seq"))


LOG_FILTERS = {
    "since": "log.corrected_at >= ?", "until": "log.corrected_at < ?", "kiosk": "log.kiosk_id = ?",
    "class": "log.class_name = ?", "patron": "log.patron_id = ?", "item": "log.item_id = ?",
    "kind": "log.kind = ?",
}


def browse_log(db, filters: dict, before: Optional[tuple] = None, limit: int = 50) -> list[dict]:
    """One page of the merged log, newest first, filtered; `before` is the last row's key of the page before.

    A filter's value is one value, or a list of values any of which matches.
    """
    where, params = [], []
    for key, clause in LOG_FILTERS.items():
        value = filters.get(key)
        if isinstance(value, (list, tuple)):
            # Any of several values (a name stands for every patron it matches); none matched, no rows.
            where.append(clause.replace("= ?", f"IN ({','.join('?' * len(value))})") if value else "1 = 0")
            params.extend(value)
        elif value:
            where.append(clause)
            params.append(value)
    if filters.get("flagged"):
        where.append("(log.flagged = 1 OR EXISTS (SELECT 1 FROM merge_flags m WHERE m.kiosk_id = log.kiosk_id"
                     " AND m.seq = log.seq))")
    if before is not None:
        where.append("(log.corrected_at, log.kiosk_id, log.seq) < (?, ?, ?)")
        params += list(before)
    sql = ("SELECT log.kiosk_id, log.seq, log.kind, log.corrected_at, log.trusted, log.patron_id,"
           " patrons.name AS patron_name, log.class_name, log.item_id, items.title, log.details, log.corrected_due,"
           " log.flagged,"
           " (SELECT reason FROM merge_flags m WHERE m.kiosk_id = log.kiosk_id AND m.seq = log.seq) AS reason"
           " FROM log LEFT JOIN patrons ON patrons.id = log.patron_id LEFT JOIN items ON items.id = log.item_id"
           + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY log.corrected_at DESC, log.kiosk_id DESC, log.seq DESC LIMIT ?")
    return list(db.query(sql, params + [limit]))


def unknown_tags(db, limit: int = 200) -> list[dict]:
    """UIDs tapped recently that match no patron and no item, with the kiosk and the last time."""
    seen: dict[str, dict] = {}
    # Per UID and kiosk first, then per UID: the kiosk shown is the one of the latest tap.
    for row in db.query(
            "SELECT json_extract(details, '$.uid') AS uid, kiosk_id, MAX(corrected_at) AS seen, COUNT(*) AS taps"
            " FROM log WHERE kind = 'unknown_tag' AND json_extract(details, '$.uid') IS NOT NULL"
            " AND json_extract(details, '$.uid') NOT IN (SELECT card_uid FROM patrons WHERE card_uid IS NOT NULL)"
            " AND json_extract(details, '$.uid') NOT IN (SELECT tag_uid FROM items WHERE tag_uid IS NOT NULL)"
            " GROUP BY json_extract(details, '$.uid'), kiosk_id"):
        held = seen.setdefault(row["uid"], dict(row, taps=0))
        taps = held["taps"] + row["taps"]
        if row["seen"] > held["seen"]:
            held.update(row)
        held["taps"] = taps
    return sorted(seen.values(), key=lambda r: r["seen"], reverse=True)[:limit]


def resolve_flag(db, librarian: str, kiosk_id: str, seq: int, resolution: str) -> None:
    """The librarian's answer to a flagged record: accept, reverse, or mark the book lost; logged."""
    if resolution not in ("accept", "reverse", "lost"):
        raise CentralError(f"resolution {resolution!r} is not one of accept, reverse, lost")
    with db.atomic():
        row = db.execute("SELECT kind, item_id, patron_id FROM log WHERE kiosk_id = ? AND seq = ?",
                         [kiosk_id, seq]).fetchone()
        if row is None:
            raise CentralError(f"no record {kiosk_id} #{seq}")
        kind, item_id, _ = row
        db.execute("INSERT INTO merge_flags (kiosk_id, seq, item_id, reason, detail) VALUES (?, ?, ?, 'kiosk', '')"
                   " ON CONFLICT(kiosk_id, seq) DO NOTHING", [kiosk_id, seq, item_id])
        db.execute("UPDATE merge_flags SET resolution = ?, resolved_by = ?, resolved_at = ? WHERE kiosk_id = ?"
                   " AND seq = ?", [resolution, librarian, iso(utc_now()), kiosk_id, seq])
        if resolution == "reverse" and item_id:
            remerge_item(db, item_id)  # replayed without it, now and at every later merge
        if resolution == "lost" and item_id:
            db.execute("UPDATE items SET status = 'lost', unavailable_since = ?, rev = ? WHERE id = ?",
                       [iso(utc_now()), next_revs(db, 1), item_id])
        audit(db, librarian, f"resolve {resolution}", f"{kiosk_id} #{seq}", f"{kind} of {item_id}")


def term_start(db, today: date) -> date:
    """The first day of the term `today` falls in, by the school's rules (their `term_starts`)."""
    from sync.server.db.catalog import get_rules

    return reading.term_start(get_rules(db), today)


_LOANS_WITH_STUDENTS = ("SELECT patron_id, class_name, item_id, substr(corrected_at, 1, 7) AS month FROM log"
                        " WHERE kind = 'checkout' AND patron_id IS NOT NULL")


def reading_statistics(db, since: date, today: date) -> dict:
    """Books per student since `since`, per class per month, most and never borrowed.

    Forgotten loans (see `forget_returned`) still count, by class and month.
    """
    students = list(db.query(
        "SELECT patrons.id, patrons.name, patrons.class_name, COUNT(l.item_id) AS books FROM patrons"
        f" LEFT JOIN ({_LOANS_WITH_STUDENTS} AND corrected_at >= ?) l ON l.patron_id = patrons.id"
        " WHERE patrons.type = 'student' GROUP BY patrons.id ORDER BY patrons.class_name, patrons.name",
        [since.isoformat()]))
    sizes = dict(db.execute("SELECT class_name, COUNT(*) FROM patrons WHERE type = 'student' GROUP BY class_name")
                 .fetchall())
    monthly = db.query(
        "SELECT class_name, month, SUM(n) AS books FROM (SELECT class_name, month, 1 AS n"
        f" FROM ({_LOANS_WITH_STUDENTS}) made UNION ALL SELECT class_name, month, loans FROM reading_counts) counted"
        " WHERE class_name IS NOT NULL"
        " GROUP BY class_name, month ORDER BY class_name, month")
    per_class = [dict(row, students=sizes.get(row["class_name"], 0),
                      per_student=round(row["books"] / sizes[row["class_name"]], 2) if sizes.get(row["class_name"])
                      else None) for row in monthly]
    popular = list(db.query(
        "SELECT items.id, items.title, SUM(n) AS loans FROM (SELECT item_id, 1 AS n FROM log WHERE kind = 'checkout'"
        " AND patron_id IS NOT NULL UNION ALL SELECT item_id, loans FROM reading_counts) c JOIN items ON items.id ="
        " c.item_id GROUP BY items.id ORDER BY loans DESC, items.title LIMIT 20"))
    never = list(db.query(
        "SELECT id, title, author, call_number FROM items WHERE status = 'available'"
        " AND id NOT IN (SELECT item_id FROM log WHERE kind = 'checkout' AND item_id IS NOT NULL)"
        " AND id NOT IN (SELECT item_id FROM reading_counts) ORDER BY title"))
    total = db.execute(f"SELECT COUNT(*) FROM ({_LOANS_WITH_STUDENTS}) loans_made").fetchone()[0] + \
        (db.execute("SELECT COALESCE(SUM(loans), 0) FROM reading_counts").fetchone()[0])
    return {"since": since.isoformat(), "today": today.isoformat(), "students": students, "per_class": per_class,
            "popular": popular, "never": never, "total_loans": total}
