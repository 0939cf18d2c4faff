"""Gathering the idle screen's slides and the find-a-book answers from the kiosk's tables."""

from __future__ import annotations

from datetime import datetime

from kiosk.domain import find, showcase
from kiosk.domain.model import Policy
from kiosk.domain.view import Book, Slide
from kiosk.store import _item, loan_of
from kiosk.store.reading import books_by_id, class_books, homes, showcase_list

FIND_LIMIT = 5


def slides(db, kiosk_id: str, home: str, policy: Policy, now: datetime) -> tuple[Slide, ...]:
    """The slides for this kiosk now: new books at its home, most borrowed, its class's progress."""
    today = now.date()
    month = today.isoformat()[:7]
    classes = [r[0] for r in db.execute("SELECT DISTINCT class_name FROM patrons WHERE type = 'student'"
                                        " AND class_name IS NOT NULL AND class_name != ''")]
    class_name = showcase.class_of_home(home, classes)
    _, new_entries = showcase_list(db, f"new:{home}")
    known = {e["item_id"]: b for e in new_entries for b in books_by_id(db, [e["item_id"]])}
    popular_month, popular = showcase_list(db, f"popular:{class_name or ''}")
    stars_month, stars = showcase_list(db, f"stars:{class_name or ''}")
    progress = None
    if class_name:
        books, size = class_books(db, kiosk_id, class_name, now)
        progress = (books, policy.class_month_goal * max(1, size))
    return showcase.slides(
        home=home, homes=homes(db), class_name=class_name,
        new=showcase.new_books(new_entries, known, today),
        popular=tuple(books_by_id(db, [e["item_id"] for e in popular])[:showcase.SHOWN])
        if popular_month == month else (),
        stars=tuple(f"{e['name']} ({e['class']})" for e in stars)[:showcase.SHOWN * 2]
        if policy.showcase_names and stars_month == month else (),
        class_progress=progress)


def search(db, query: str, names: dict[str, str], limit: int = FIND_LIMIT) -> tuple[Book, ...]:
    """Books whose title or author holds `query`, or whose pinyin initials start with it.

    Titles that start with it come first, then the rest by title.
    """
    text = query.strip()
    if not text:
        return ()
    like = f"%{text}%"
    letters = "".join(text.split()).upper()
    rows = list(db.query(
        "SELECT * FROM items WHERE title LIKE ? OR author LIKE ? OR (? != '' AND (' ' || initials) LIKE ?)"
        " ORDER BY title LIKE ? DESC, title LIMIT ?",
        [like, like, letters, f"% {letters}%", f"{text}%", limit]))
    return tuple(find.answer(item, loan_of(db, item.id), names) for item in map(_item, rows))
