"""Finding people and books as a librarian types them, and what the student page and the book page show.

Names are found in any case and, for Chinese names, by their pinyin, whole
(`li xiao long`, `lixiaolong`) or by initials (`lxl`), as Chinese library
systems do. A school has a few thousand patrons at most, so they are matched
in Python from one read of the table.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import date
from functools import lru_cache

from kiosk.core import pinyin
from sync.server.db.charges import list_charges

LIMIT = 500  # ids a filter by name may stand for


@lru_cache(maxsize=20000)
def spellings(name: str) -> tuple[str, ...]:
    """The ways a name may be typed: itself in any case, and for Chinese its pinyin whole and by initials."""
    out = [name.casefold()]
    if pinyin.has_chinese(name):
        from pypinyin import lazy_pinyin  # loads its dictionaries: only for a Chinese name

        syllables = lazy_pinyin(name, errors="ignore")
        out += [" ".join(syllables), "".join(syllables), pinyin.initials(name)]
    return tuple(s.casefold() for s in out)


def _matches(text: str, *fields: str) -> bool:
    want = " ".join(text.casefold().split())
    if not want:
        return False
    for value in fields:
        for spelling in spellings(value or ""):
            if want in spelling or want.replace(" ", "") in spelling.replace(" ", ""):
                return True
    return False


def search_patrons(db, text: str, limit: int = 50) -> list[dict]:
    """Patrons whose id, name (or its pinyin), class or card UID contain `text`, in any case; by class and name."""
    text = text.strip()
    if not text:
        return []
    rows = db.query("SELECT id, name, type, class_name, card_uid, status FROM patrons ORDER BY class_name, name")
    found = [r for r in rows if _matches(text, r["id"], r["name"], r["class_name"], r["card_uid"] or "")]
    exact = [r for r in found if r["id"].casefold() == text.casefold()]
    return (exact + [r for r in found if r not in exact])[:limit]


def contains(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') for text containing `text`: its own % and _ are letters, not wildcards."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text.strip()) + "%"


def patron_ids_matching(db, text: str) -> list[str]:
    """Ids of the patrons a log filter's text stands for (an id, a name, in any case)."""
    return [r["id"] for r in search_patrons(db, text, LIMIT)]


def item_ids_matching(db, text: str) -> list[str]:
    """Ids of the books a log filter's text stands for: an id, barcode or tag, or part of a title, any case."""
    like = contains(text)
    return [r[0] for r in db.execute(
        "SELECT id FROM items WHERE id = ? COLLATE NOCASE OR barcode = ? OR tag_uid = ? COLLATE NOCASE"
        " OR title LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?", [text.strip()] * 3 + [like, LIMIT])]


def kiosk_ids_matching(db, text: str) -> list[str]:
    """Kiosk ids whose id or name contains `text`, any case."""
    like = contains(text)
    return [r[0] for r in db.execute("SELECT id FROM kiosks WHERE id LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\'",
                                     [like, like])]


def classes_matching(db, text: str) -> list[str]:
    """Class names equal to `text` in any case (3a is 3A), the patrons' and the log's (last year's classes).

    The log is asked whether it holds each way of writing `text` in small
    and capital letters, which its class index answers at once: compared
    without case, every page filtered by a class read the whole log (a
    second at a million records). Up to 8 letters, as class names have; a
    longer text as typed.
    """
    text = text.strip()
    cases = [(c.lower(), c.upper()) if c.lower() != c.upper() else (c,) for c in text]
    spellings = {"".join(s) for s in itertools.product(*cases)} if sum(len(c) > 1 for c in cases) <= 8 else {text}
    found = {r[0] for r in db.execute("SELECT class_name FROM patrons WHERE class_name = ? COLLATE NOCASE", [text])}
    found |= {s for s in spellings if db.execute("SELECT 1 FROM log WHERE class_name = ? LIMIT 1", [s]).fetchone()}
    return sorted(found)


def names(db, patron_ids, item_ids) -> tuple[dict[str, str], dict[str, str]]:
    """Patron names and book titles by id, for the ids a page shows."""
    def lookup(table, column, ids):
        ids = sorted({i for i in ids if i})
        out = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            out.update(db.execute(f"SELECT id, {column} FROM {table} WHERE id IN ({','.join('?' * len(part))})",
                                  part).fetchall())
        return out
    return lookup("patrons", "name", patron_ids), lookup("items", "title", item_ids)


def _records(db, where: str, params: list, limit: int) -> list[dict]:
    rows = list(db.query(
        "SELECT log.kiosk_id, log.seq, log.kind, log.corrected_at, log.patron_id, log.item_id, log.details,"
        " log.flagged, patrons.name AS patron_name, items.title FROM log"
        " LEFT JOIN patrons ON patrons.id = log.patron_id LEFT JOIN items ON items.id = log.item_id"
        f" WHERE {where} ORDER BY log.corrected_at DESC, log.kiosk_id DESC, log.seq DESC LIMIT ?", params + [limit]))
    for row in rows:
        row["details"] = json.loads(row["details"] or "{}")
    return rows


def person(db, patron_id: str, since: date) -> dict | None:
    """A patron's page: the row, current loans with titles, loans and returns since `since`, charges."""
    rows = list(db.query("SELECT * FROM patrons WHERE id = ?", [patron_id]))
    if not rows:
        return None
    loans = list(db.query(
        "SELECT loans.item_id, items.title, items.call_number, loans.due, loans.checked_out, loans.renewals,"
        " loans.kiosk_id FROM loans LEFT JOIN items ON items.id = loans.item_id WHERE loans.patron_id = ?"
        " ORDER BY loans.due, loans.item_id", [patron_id]))
    history = _records(db, "log.patron_id = ? AND log.corrected_at >= ? AND log.kind IN"
                           " ('checkout', 'return', 'renew', 'refused')", [patron_id, since.isoformat()], 300)
    borrowed = db.execute("SELECT COUNT(*) FROM log WHERE patron_id = ? AND kind = 'checkout' AND corrected_at >= ?",
                          [patron_id, since.isoformat()]).fetchone()[0]
    return {"patron": rows[0], "loans": loans, "history": history, "borrowed": borrowed,
            "charges": list_charges(db, patron_id=patron_id)}


def book(db, item_id: str) -> dict | None:
    """A book's page: the row, its loan and borrower, its records, its repairs and withdrawals, its charges."""
    rows = list(db.query("SELECT * FROM items WHERE id = ?", [item_id]))
    if not rows:
        return None
    loan = list(db.query(
        "SELECT loans.patron_id, patrons.name AS patron_name, patrons.class_name, loans.due, loans.checked_out,"
        " loans.renewals, loans.kiosk_id FROM loans LEFT JOIN patrons ON patrons.id = loans.patron_id"
        " WHERE loans.item_id = ?", [item_id]))
    history = _records(db, "log.item_id = ?", [item_id], 200)
    seen = next((r for r in history if r["kind"] not in ("refused",)), None)
    repairs = list(db.query("SELECT at, librarian, action, detail FROM audit WHERE target = ? AND action LIKE"
                            " 'item %' ORDER BY id DESC LIMIT 100", [item_id]))
    charges = list_charges(db, item_id=item_id)
    return {"item": rows[0], "loan": loan[0] if loan else None, "history": history, "last_seen": seen,
            "repairs": repairs, "charges": charges}
