"""What a district account reads: every school's reading this term, and the books most borrowed across them."""

from __future__ import annotations

from datetime import date

from sync.server.db.catalog import get_rules
from sync.server.db.reports import term_start
from sync.server.db.schools import schools, use_school


def district_statistics(db, today: date) -> dict:
    """Books per student in each school this term, against its goal, and the most borrowed books of the district.

    A school's figure is counted as its reading page counts it (students'
    checkouts since its term began, by its rules, over its students). The same
    book has another id in each school: across schools it is the same title
    and author.
    """
    rows, books = [], {}
    for school in schools(db):
        use_school(db, school["id"])
        since = term_start(db, today)
        students = db.execute("SELECT COUNT(*) FROM patrons WHERE type = 'student'").fetchone()[0]
        lent = db.execute(
            "SELECT COUNT(*) FROM log JOIN patrons ON patrons.id = log.patron_id WHERE log.kind = 'checkout'"
            " AND patrons.type = 'student' AND log.corrected_at >= ?", [since.isoformat()]).fetchone()[0]
        kiosks = db.execute("SELECT COUNT(*) FROM kiosks").fetchone()[0]
        rows.append({"id": school["id"], "name": school["name"], "students": students, "books": lent,
                     "kiosks": kiosks, "per_student": round(lent / students, 2) if students else None,
                     "since": since.isoformat(), "goal": get_rules(db).term_goal})
        for row in db.query(
                "SELECT items.title, items.author, COUNT(*) AS loans FROM log JOIN items ON items.id = log.item_id"
                " WHERE log.kind = 'checkout' AND log.corrected_at >= ? GROUP BY items.title, items.author",
                [since.isoformat()]):
            held = books.setdefault((row["title"], row["author"] or ""), {"loans": 0, "schools": 0})
            held["loans"] += row["loans"]
            held["schools"] += 1
    popular = sorted(({"title": t, "author": a, **n} for (t, a), n in books.items()),
                     key=lambda b: (-b["loans"], b["title"]))[:20]
    students = sum(r["students"] for r in rows)
    lent = sum(r["books"] for r in rows)
    return {"schools": rows, "popular": popular, "students": students, "books": lent,
            "per_student": round(lent / students, 2) if students else None}
