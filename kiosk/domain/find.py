"""Find a book: what typing does to the search, and the answer a child reads.

The search itself runs over the kiosk's copy of the catalog
(`kiosk.store.find`): titles and authors, and Chinese titles and authors by
their pinyin initials, which the central store works out at import.
"""

from __future__ import annotations

from kiosk.domain.model import Item, Loan
from kiosk.domain.texts import home_label
from kiosk.domain.view import Book, Message, N_

MAX_QUERY = 30
BACKSPACE = "\b"


def next_query(query: str, keys: str) -> str:
    """The search text after `keys` were typed: letters added, BACKSPACE takes one away."""
    for key in keys:
        if key == BACKSPACE:
            query = query[:-1]
        elif key.isprintable():
            query += key
    return query.lstrip()[:MAX_QUERY]


def answer(item: Item, loan: Loan | None, homes: dict[str, str]) -> Book:
    """A found book with where it is (home and call number), or when it is back."""
    if loan is not None:
        said = Message(N_("On loan, back by {due}"), {"due": loan.due})
    elif item.status != "available":
        said = Message(N_("Not on the shelf now. Please ask the librarian."))
    elif item.call_number:
        said = Message(N_("On the shelf: {home}, {call_number}"),
                       {"home": home_label(homes, item.home), "call_number": item.call_number})
    else:
        said = Message(N_("On the shelf: {home}"), {"home": home_label(homes, item.home)})
    return Book(title=item.title, author=item.author, call_number=item.call_number, answer=said,
                available=loan is None and item.status == "available")
