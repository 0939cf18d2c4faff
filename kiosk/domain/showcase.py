"""The idle screen's quiet rotation: new books here, most borrowed this month, a class's progress.

Built from the lists the central store sends (`kiosk.store.showcase`
gathers them); names of students appear only in the "stars" list, which the
central store fills only when the school turned names on, and then as first
name and class only.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from kiosk.domain.texts import home_label
from kiosk.domain.view import Book, Message, N_, Slide

NEW_DAYS = 60  # a book is new here for this many days after it was added
SHOWN = 3  # books a slide names at most


def class_of_home(home: str, classes: list[str]) -> str | None:
    """The class whose cabinet `home` is ("class-3a" -> "3A"), if one of `classes` matches."""
    key = re.sub(r"[^0-9a-z]", "", home.lower()).removeprefix("class")
    for name in classes:
        if key and re.sub(r"[^0-9a-z]", "", name.lower()) == key:
            return name
    return None


def new_books(entries: list[dict], books: dict[str, Book], today: date) -> tuple[Book, ...]:
    """The books added in the last `NEW_DAYS` days, newest first, that the kiosk knows."""
    since = (today - timedelta(days=NEW_DAYS)).isoformat()
    fresh = [e for e in entries if (e.get("added") or "") >= since and e.get("item_id") in books]
    return tuple(books[e["item_id"]] for e in fresh[:SHOWN])


def slides(*, home: str, homes: dict[str, str], class_name: str | None, new: tuple[Book, ...],
           popular: tuple[Book, ...], stars: tuple[str, ...],
           class_progress: tuple[int, int] | None) -> tuple[Slide, ...]:
    """The slides for a kiosk at `home`; a slide with nothing to show is left out."""
    out = []
    if new:
        out.append(Slide("new", Message(N_("New in {home}"), {"home": home_label(homes, home)}), books=new))
    if popular:
        heading = Message(N_("Most borrowed in Class {name} this month"), {"name": class_name}) if class_name \
            else Message(N_("Most borrowed this month"))
        out.append(Slide("popular", heading, books=popular))
    if class_name and class_progress is not None:
        books, goal = class_progress
        out.append(Slide("class", Message(N_("Class {name} this month"), {"name": class_name}), count=books,
                         goal=goal))
    if stars:
        out.append(Slide("stars", Message(N_("Keen readers this month")), names=stars))
    return tuple(out)
