"""Homes: where books belong (the library, a class's book corner), their names, and books moving between them.

A home's id (`class-3a`) is what items carry; its name ("Class 3A",
"三年级一班") is what people read, on the pages and on every kiosk (pulled with
the catalog). A `rehome` record from a kiosk's "Receive books" gives a book
its new home under a fresh change number, so every kiosk learns of it at its
next pull; the newest rehome of a book (in merge order) wins. Which books a
home had and when is read back from those records.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Iterable

from sync.server.db.audit import audit
from sync.server.db.schema import CentralError, iso, next_revs, utc_now

HOME_REPORT_KEYS = ("home", "name", "items", "on_loan", "available")


def check_home_id(home: str) -> str:
    """A home id as items carry it: 1 to 64 printable characters without spaces at either end."""
    if not isinstance(home, str) or not 0 < len(home) <= 64 or not home.isprintable() or home != home.strip():
        raise CentralError(f"home {home!r}: use 1 to 64 letters, digits or signs, like class-3a")
    return home


def set_home(db, librarian: str, home: str, name: str, class_name: str = "") -> None:
    """Name a home (and the class whose corner it is); audited, pulled by every kiosk at its next sync."""
    check_home_id(home)
    name, class_name = name.strip(), class_name.strip()
    if not 0 < len(name) <= 100 or not name.isprintable():
        raise CentralError(f"home {home}: a name of 1 to 100 characters, like Class 3A or 三年级一班")
    if len(class_name) > 64 or not class_name.isprintable():
        raise CentralError(f"home {home}: the class is at most 64 characters, like 3A")
    with db.atomic():
        db.execute("INSERT INTO homes (id, name, class_name, rev) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
                   " SET name = excluded.name, class_name = excluded.class_name, rev = excluded.rev",
                   [home, name, class_name or None, next_revs(db, 1)])
        audit(db, librarian, "home named", home, name + (f" (class {class_name})" if class_name else ""))


def home_names(db) -> dict[str, str]:
    """Home id -> name, for the homes that have one."""
    return dict(db.execute("SELECT id, name FROM homes ORDER BY id").fetchall())


def homes_list(db) -> list[dict]:
    """Every home (named, or named by an item) and its name, without counting its books."""
    return list(db.query("SELECT h.home, COALESCE(homes.name, h.home) AS name FROM (SELECT DISTINCT home FROM items"
                         " WHERE home IS NOT NULL AND home <> '' UNION SELECT id FROM homes) h"
                         " LEFT JOIN homes ON homes.id = h.home ORDER BY h.home"))


def homes_report(db) -> list[dict]:
    """Every home (named, or named by an item), its name, its books, how many are on loan and how many in."""
    rows = db.query(
        "SELECT h.home, COALESCE(homes.name, h.home) AS name, COALESCE(c.items, 0) AS items,"
        " COALESCE(c.on_loan, 0) AS on_loan, COALESCE(c.available, 0) AS available"
        " FROM (SELECT home FROM items WHERE home IS NOT NULL AND home <> '' UNION SELECT id FROM homes) h"
        " LEFT JOIN homes ON homes.id = h.home"
        " LEFT JOIN (SELECT items.home, COUNT(*) AS items, COUNT(loans.item_id) AS on_loan,"
        " SUM(CASE WHEN items.status = 'available' AND loans.item_id IS NULL THEN 1 ELSE 0 END) AS available"
        " FROM items LEFT JOIN loans ON loans.item_id = items.id GROUP BY items.home) c ON c.home = h.home"
        " ORDER BY h.home")
    return [{k: row[k] for k in HOME_REPORT_KEYS} for row in rows]


def known_home(db, home: str) -> bool:
    """Whether a home is named or has books."""
    return bool(db.execute("SELECT EXISTS (SELECT 1 FROM homes WHERE id = ?) OR EXISTS (SELECT 1 FROM items"
                           " WHERE home = ?)", [home, home]).fetchone()[0])


def apply_rehomes(db, kiosk_id: str, rows: Iterable[dict]) -> None:
    """Newly stored `rehome` records: the book's home (if it is its newest rehome), the register, the rotation."""
    for row in rows:
        if row["kind"] != "rehome" or not row["item_id"]:
            continue
        details = json.loads(row["details"] or "{}")
        newest = db.execute("SELECT kiosk_id, seq FROM log WHERE item_id = ? AND kind = 'rehome'"
                            " ORDER BY corrected_at DESC, kiosk_id DESC, seq DESC LIMIT 1", [row["item_id"]]).fetchone()
        if tuple(newest) == (kiosk_id, row["seq"]):
            db.execute("UPDATE items SET home = ?, rev = ? WHERE id = ?", [details["to"], next_revs(db, 1),
                                                                          row["item_id"]])
        audit(db, f"{row['patron_id'] or 'staff'} at {kiosk_id}", "item rehomed", row["item_id"],
              f"{details.get('from') or '?'} -> {details['to']}")
        db.execute("UPDATE rotation_items SET received_at = ?, received_by = ? WHERE item_id = ? AND to_home = ?"
                   " AND received_at IS NULL", [row["corrected_at"], kiosk_id, row["item_id"], details["to"]])


def _rehomes(db) -> dict[str, list[dict]]:
    """Every rehome record by item, in merge order: `at`, `from`, `to`, `kiosk`."""
    moves: dict[str, list[dict]] = {}
    for row in db.query("SELECT item_id, corrected_at, kiosk_id, details FROM log WHERE kind = 'rehome'"
                        " AND item_id IS NOT NULL ORDER BY corrected_at, kiosk_id, seq"):
        details = json.loads(row["details"] or "{}")
        moves.setdefault(row["item_id"], []).append({"at": row["corrected_at"], "from": details.get("from") or "",
                                                     "to": details.get("to") or "", "kiosk": row["kiosk_id"]})
    return moves


def periods(current_home: str, moves: list[dict]) -> list[tuple[str, str, str]]:
    """(home, since, until) of one book from its rehome records; '' is "from the catalog" or "still there"."""
    if not moves:
        return [(current_home, "", "")]
    spans = [(moves[0]["from"], "", moves[0]["at"])]
    for move, after in zip(moves, moves[1:] + [None]):
        spans.append((move["to"], move["at"], after["at"] if after else ""))
    return spans


def home_at(current_home: str, moves: list[dict], when: str) -> str:
    """Where a book belonged at the ISO time `when`."""
    for home, since, until in periods(current_home, moves):
        if (not since or since <= when) and (not until or when < until):
            return home
    return current_home


def home_history(db, home: str) -> list[dict]:
    """Every book `home` has had and when: item, title, since and until ('' when from the catalog or still there)."""
    moves = _rehomes(db)
    current = {r["id"]: r for r in db.query("SELECT id, title, home FROM items")}
    out = []
    for item_id, item in current.items():
        for where, since, until in periods(item["home"] or "", moves.get(item_id, [])):
            if where == home:
                out.append({"item": item_id, "title": item["title"], "since": since, "until": until})
    return sorted(out, key=lambda r: (r["until"] == "", r["since"], r["title"]), reverse=True)


def corner_reading(db, home: str, since: str) -> dict:
    """For the class whose corner `home` is: its checkouts since `since`, from its own corner and from elsewhere."""
    row = db.execute("SELECT class_name FROM homes WHERE id = ?", [home]).fetchone()
    class_name = row[0] if row else None
    counts = {"class_name": class_name, "own_corner": 0, "elsewhere": 0}
    if not class_name:
        return counts
    moves = _rehomes(db)
    for item_id, at, current in db.execute(
            "SELECT log.item_id, log.corrected_at, items.home FROM log LEFT JOIN items ON items.id = log.item_id"
            " WHERE log.kind = 'checkout' AND log.class_name = ? AND log.corrected_at >= ?",
            [class_name, since]).fetchall():
        own = home_at(current or "", moves.get(item_id, []), at) == home
        counts["own_corner" if own else "elsewhere"] += 1
    return counts


def create_rotation(db, librarian: str, order: list[str], ring: bool = True) -> int:
    """A rotation plan: the books of order[0] go to order[1], order[1]'s to order[2], ... (and the last's to
    the first when `ring`). Every book of those homes still in the collection is on a packing list."""
    order = [check_home_id(h.strip()) for h in order if h.strip()]
    if len(order) < 2 or len(set(order)) != len(order):
        raise CentralError("a rotation needs two or more different homes, in the order their books move")
    for home in order:
        if not known_home(db, home):
            raise CentralError(f"no home {home!r}: no book belongs there and it has no name")
    moves = dict(zip(order, order[1:] + ([order[0]] if ring else [])))
    now = iso(utc_now())
    with db.atomic():
        rotation_id = db.execute("INSERT INTO rotations (created, created_by, homes) VALUES (?, ?, ?) RETURNING id",
                                 [now, librarian, json.dumps({"order": order, "ring": ring})]).fetchone()[0]
        for from_home, to_home in moves.items():
            db.execute("INSERT INTO rotation_items (rotation_id, item_id, from_home, to_home) SELECT ?, id, ?, ?"
                       " FROM items WHERE home = ? AND status NOT IN ('withdrawn', 'lost')",
                       [rotation_id, from_home, to_home, from_home])
        count = db.execute("SELECT COUNT(*) FROM rotation_items WHERE rotation_id = ?", [rotation_id]).fetchone()[0]
        audit(db, librarian, "rotation planned", f"rotation {rotation_id}",
              f"{' -> '.join(order + ([order[0]] if ring else []))}: {count} books")
    return rotation_id


def rotations(db) -> list[dict]:
    """Every rotation plan, newest first, with its books and how many the receiving kiosks have seen."""
    rows = db.query("SELECT r.id, r.created, r.created_by, r.homes, COUNT(ri.item_id) AS books,"
                    " COUNT(ri.received_at) AS received FROM rotations r"
                    " LEFT JOIN rotation_items ri ON ri.rotation_id = r.id"
                    " GROUP BY r.id, r.created, r.created_by, r.homes ORDER BY r.id DESC")
    out = []
    for row in rows:
        plan = json.loads(row.pop("homes"))
        out.append({**row, "order": plan["order"], "ring": plan["ring"]})
    return out


def packing_lists(db, rotation_id: int) -> list[dict]:
    """One packing list per cabinet giving books: from, to, and its books (on loan or received marked)."""
    lists: dict[str, dict] = {}
    for row in db.query(
            "SELECT ri.from_home, ri.to_home, ri.item_id, items.title, items.call_number, ri.received_at,"
            " ri.received_by, loans.item_id IS NOT NULL AS on_loan FROM rotation_items ri"
            " LEFT JOIN items ON items.id = ri.item_id LEFT JOIN loans ON loans.item_id = ri.item_id"
            " WHERE ri.rotation_id = ? ORDER BY ri.from_home, items.call_number, items.title", [rotation_id]):
        box = lists.setdefault(row["from_home"], {"from_home": row["from_home"], "to_home": row["to_home"],
                                                  "books": []})
        box["books"].append(row)
    return list(lists.values())


def parse_day(text: str) -> str:
    """A date like 2026-11-23, checked; `CentralError` naming it otherwise."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date().isoformat()
    except (ValueError, AttributeError):
        raise CentralError(f"{text!r} is not a date like 2026-11-23") from None
