"""What the kiosks show besides circulation: reading counts, the idle showcase, recommendations.

Worked out from the merged log and the catalog, kept in tables of their own
with a change number (`rev`) like patrons and items, so a kiosk pulls only
the rows that changed (docs/sync-api.md):

- `reading`: books each student borrowed this term, per kiosk where they
  were lent (a kiosk adds its own log to the others' counts, never counting
  a checkout twice);
- `class_reading`: books each class borrowed this month, per kiosk;
- `showcase`: lists for the idle screen: `new:HOME` (books added lately at
  that home), `popular:CLASS` and `popular:` (most borrowed this month by a
  class, by everyone), `stars:CLASS` and `stars:` (first name and class of
  keen readers, empty unless the rules turn names on);
- `recommendations`: for a book, the books its readers also read. A pair
  counts only when at least `MIN_READERS` different students read both, and
  only book ids leave the store: no one's reading can be told from it.

`refresh` brings them up to date; the pull calls it when anything changed
since the last time (cheap then: only rows whose value moved get a new rev).
Recommendations, the costliest, are worked out again at most every
`RECOMMEND_SECONDS`.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

from kiosk.domain import reading
from sync.server.db.catalog import get_rules
from sync.server.db.schema import iso, migrations, next_revs, utc_now

MIN_READERS = 2
RECOMMEND_SECONDS = 600
NEW_SHOWN, POPULAR_SHOWN, STARS_SHOWN, ALSO_SHOWN = 5, 3, 3, 3


@migrations(name="showcase_0001_tables")
def _tables(db) -> None:
    db.executescript("""
    ALTER TABLE items ADD COLUMN added TEXT;
    ALTER TABLE items ADD COLUMN initials TEXT;
    UPDATE items SET added = '';
    CREATE TABLE reading (patron_id TEXT NOT NULL, kiosk_id TEXT NOT NULL, term TEXT NOT NULL,
        books INTEGER NOT NULL, rev INTEGER NOT NULL, PRIMARY KEY (patron_id, kiosk_id)) WITHOUT ROWID;
    CREATE INDEX reading_rev ON reading(rev);
    CREATE TABLE class_reading (class_name TEXT NOT NULL, kiosk_id TEXT NOT NULL, month TEXT NOT NULL,
        books INTEGER NOT NULL, rev INTEGER NOT NULL, PRIMARY KEY (class_name, kiosk_id)) WITHOUT ROWID;
    CREATE INDEX class_reading_rev ON class_reading(rev);
    CREATE TABLE showcase (list TEXT PRIMARY KEY, month TEXT, entries TEXT NOT NULL, rev INTEGER NOT NULL);
    CREATE INDEX showcase_rev ON showcase(rev);
    CREATE TABLE recommendations (item_id TEXT PRIMARY KEY, also TEXT NOT NULL, rev INTEGER NOT NULL);
    CREATE INDEX recommendations_rev ON recommendations(rev);
    CREATE TABLE showcase_state (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL, day TEXT NOT NULL,
        recommended_at TEXT);
    """)


def _since(day, now: datetime) -> str:
    """Local midnight of `day` as the log's UTC time text, for comparing with `corrected_at`."""
    return iso(datetime.combine(day, time(0), tzinfo=now.astimezone().tzinfo))


def _first_name(name: str) -> str:
    """"Mia Chen" -> "Mia"; "李小龙" -> "小龙" (a Chinese family name is the first character)."""
    name = (name or "").strip()
    if any("\u4e00" <= c <= "\u9fff" for c in name):
        return name[1:] if len(name) > 1 else name
    return name.split()[0] if name else ""


def _sync_rows(db, table: str, keys: tuple[str, ...], rows: dict[tuple, dict], stale: dict[str, Any]) -> int:
    """Make `table` hold `rows` (key -> values): changed and new rows get new revs; rows no longer
    found are set to `stale` (a count of 0, an empty list) so kiosks forget them too. Returns rows changed."""
    held = {tuple(r[k] for k in keys): r for r in db.query(f"SELECT * FROM {table}")}
    for key, row in held.items():
        if key not in rows:
            values = {k: row[k] for k in row if k not in keys and k != "rev"}
            if any(values[k] != v for k, v in stale.items()):
                rows[key] = {**values, **stale}
    changed = [(key, values) for key, values in rows.items()
               if key not in held or any(held[key][k] != v for k, v in values.items())]
    if not changed:
        return 0
    first = next_revs(db, len(changed))
    for offset, (key, values) in enumerate(changed):
        row = {**dict(zip(keys, key)), **values, "rev": first + offset}
        db.execute(f"INSERT OR REPLACE INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                   list(row.values()))
    return len(changed)


def _reading(db, term_since: str, month_since: str, term: str, month: str) -> None:
    students = ("SELECT log.patron_id, log.kiosk_id, log.class_name FROM log JOIN patrons ON patrons.id ="
                " log.patron_id WHERE log.kind = 'checkout' AND patrons.type = 'student' AND log.corrected_at >= ?")
    per_student = {(p, k): {"term": term, "books": n} for p, k, n in db.execute(
        f"SELECT patron_id, kiosk_id, COUNT(*) FROM ({students}) GROUP BY patron_id, kiosk_id", [term_since])}
    _sync_rows(db, "reading", ("patron_id", "kiosk_id"), per_student, {"books": 0})
    per_class = {(c, k): {"month": month, "books": n} for c, k, n in db.execute(
        f"SELECT class_name, kiosk_id, COUNT(*) FROM ({students}) WHERE class_name IS NOT NULL"
        " GROUP BY class_name, kiosk_id", [month_since])}
    _sync_rows(db, "class_reading", ("class_name", "kiosk_id"), per_class, {"books": 0})


def _lists(db, month_since: str, month: str, names: bool) -> None:
    lists: dict[tuple, dict] = {}
    for (home,) in db.execute("SELECT DISTINCT home FROM items WHERE home IS NOT NULL AND home != ''"):
        newest = db.execute("SELECT id, added FROM items WHERE home = ? AND status = 'available' AND added != ''"
                            " ORDER BY added DESC, id LIMIT ?", [home, NEW_SHOWN]).fetchall()
        lists[(f"new:{home}",)] = {"month": None,
                                   "entries": json.dumps([{"item_id": i, "added": a[:10]} for i, a in newest])}
    month_loans = ("SELECT log.item_id, log.patron_id, log.class_name FROM log JOIN patrons ON patrons.id ="
                   " log.patron_id WHERE log.kind = 'checkout' AND patrons.type = 'student' AND log.corrected_at >= ?")
    classes = [""] + [r[0] for r in db.execute("SELECT DISTINCT class_name FROM patrons WHERE type = 'student'"
                                               " AND class_name IS NOT NULL AND class_name != ''")]
    for klass in classes:
        where = " WHERE l.class_name = ?" if klass else ""
        params = [month_since] + ([klass] if klass else [])
        popular = db.execute(f"SELECT l.item_id, COUNT(*) AS n FROM ({month_loans}) l{where} GROUP BY l.item_id"
                             " ORDER BY n DESC, l.item_id LIMIT ?", params + [POPULAR_SHOWN]).fetchall()
        lists[(f"popular:{klass}",)] = {"month": month, "entries": json.dumps(
            [{"item_id": i, "count": n} for i, n in popular])}
        stars = db.execute(
            f"SELECT patrons.name, patrons.class_name, COUNT(*) AS n FROM ({month_loans}) l JOIN patrons ON"
            f" patrons.id = l.patron_id{where} GROUP BY patrons.id"
            " ORDER BY n DESC, patrons.name LIMIT ?", params + [STARS_SHOWN]).fetchall() if names else []
        lists[(f"stars:{klass}",)] = {"month": month, "entries": json.dumps(
            [{"name": _first_name(name), "class": c or "", "books": n} for name, c, n in stars],
            ensure_ascii=False)}
    _sync_rows(db, "showcase", ("list",), lists, {"entries": "[]"})


def _recommendations(db) -> None:
    """Books read together by at least `MIN_READERS` students (all the log still links to a student)."""
    read = "SELECT DISTINCT patron_id, item_id FROM log WHERE kind = 'checkout' AND patron_id IS NOT NULL"
    pairs = db.execute(
        f"SELECT a.item_id, b.item_id, COUNT(*) AS readers FROM ({read}) a JOIN ({read}) b ON"
        " a.patron_id = b.patron_id AND a.item_id != b.item_id GROUP BY a.item_id, b.item_id"
        " HAVING COUNT(*) >= ? ORDER BY a.item_id, readers DESC, b.item_id", [MIN_READERS]).fetchall()
    also: dict[tuple, list] = {}
    for item, other, _ in pairs:
        chosen = also.setdefault((item,), [])
        if len(chosen) < ALSO_SHOWN:
            chosen.append(other)
    rows = {key: {"also": json.dumps(value)} for key, value in also.items()}
    _sync_rows(db, "recommendations", ("item_id",), rows, {"also": "[]"})


def refresh(db, now: datetime | None = None, force: bool = False) -> bool:
    """Bring the reading tables up to date if anything changed since the last time (or the day did).

    Returns whether it worked them out. Call under the write lock.
    """
    now = now or utc_now()
    today = now.astimezone().date()
    with db.atomic():
        if not db.try_lock("showcase"):
            return False  # another process is working them out this moment (PostgreSQL: no write lock)
        rev = db.execute("SELECT rev FROM changes WHERE id = 1").fetchone()[0]
        state = db.execute("SELECT rev, day, recommended_at FROM showcase_state WHERE id = 1").fetchone()
        if state and not force and state[0] == rev and state[1] == today.isoformat():
            return False
        policy = get_rules(db)
        term, month = reading.term_start(policy, today), reading.month_start(today)
        _reading(db, _since(term, now), _since(month, now), term.isoformat(), month.isoformat()[:7])
        _lists(db, _since(month, now), month.isoformat()[:7], policy.showcase_names)
        recommended_at = state[2] if state else None
        if force or recommended_at is None or \
                now - datetime.fromisoformat(recommended_at) >= timedelta(seconds=RECOMMEND_SECONDS):
            _recommendations(db)
            recommended_at = iso(now)
        rev = db.execute("SELECT rev FROM changes WHERE id = 1").fetchone()[0]
        db.execute("INSERT OR REPLACE INTO showcase_state (id, rev, day, recommended_at) VALUES (1, ?, ?, ?)",
                   [rev, today.isoformat(), recommended_at])
    return True
