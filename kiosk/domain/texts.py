"""What the kiosk says: instructions, refusals in words a child understands, names of homes and states.

Every text is an English template marked N_() (the gettext msgid); none of
them shows a raw value (an id, a status code, an ISO time) to a person.
"""

from __future__ import annotations

import re

from kiosk.domain.model import Item, Patron, Policy
from kiosk.domain.view import Message, N_

IDLE_TEXT = N_("Tap your card to borrow. Tap a book to return.")
HELP_TEXT = N_(
    "Tap your library card, then tap each book to borrow it. "
    "To return a book, tap it on its own. Need help? Please ask the librarian."
)
FAULT_TEXT = N_("Reader not working, please tell the librarian")
SESSION_TEXT = N_("Tap a book to borrow it.")
CAN_RETURN = N_("You can still return books.")
FIND_TEXT = N_("Type the first letters of a title or author.")

# Refusals in words a child understands.
REFUSALS = {
    "card_blocked": N_("Your card is stopped. Please see the librarian."),
    "card_expired": N_("Your card is out of date. Please see the librarian."),
    "blocked_overdue": N_("A book is very late. Please bring it back before borrowing more."),
    "limit_reached": N_("You already have {max} books. Please return one first."),
    "on_loan_to_other": N_("This book is borrowed by someone else. Please give it to the librarian."),
    "renewal_limit": N_("This book cannot be renewed again. Please return it."),
}
UNAVAILABLE = {
    "repair": N_("This book is being repaired. Please give it to the librarian."),
    "withdrawn": N_("This book is no longer lent. Please give it to the librarian."),
    "lost": N_("This book was marked lost. Please give it to the librarian."),
}
# Outcomes whose answer is "see the librarian": they get a sound of their own.
LIBRARIAN_REASONS = ("card_blocked", "card_expired", "on_loan_to_other", "item_unavailable", "unknown_tag",
                     "found_lost", "found_withdrawn")

ITEM_STATES = {
    "on_loan": N_("on loan"),
    "available": N_("on the shelf"),
    "repair": N_("being repaired"),
    "withdrawn": N_("no longer lent"),
    "lost": N_("lost"),
}


def refusal_message(policy: Policy, patron: Patron | None, reason: str, item: Item | None = None) -> Message:
    """The words for a refusal `reason` (one of `kiosk.domain.rules.REASONS`)."""
    if reason == "item_unavailable" and item is not None:
        return Message(UNAVAILABLE.get(item.status, UNAVAILABLE["withdrawn"]))
    params = {}
    if reason == "limit_reached" and patron is not None:
        params["max"] = policy.rule_for(patron.type).max_loans
    return Message(REFUSALS[reason], params)


def home_label(homes: dict[str, str], home: str) -> Message | str:
    """A home as people call it: its name from the central store, else a readable form of its id.

    "library" reads "Library"; "class-3a" reads "Class 3A" ("3A班" in
    Chinese); any other id has its dashes made spaces and each word a
    capital. The raw id is never shown.
    """
    if homes.get(home):
        return homes[home]
    words = [w for w in re.split(r"[-_\s]+", home.strip()) if w]
    if not words:
        return Message(N_("Library"))
    if len(words) == 1 and words[0].lower() == "library":
        return Message(N_("Library"))
    if len(words) >= 2 and words[0].lower() == "class":
        return Message(N_("Class {name}"), {"name": " ".join(w.upper() for w in words[1:])})
    return " ".join(w.upper() if any(c.isdigit() for c in w) else w.capitalize() for w in words)


def item_state(status: str) -> Message:
    """An item's state in words ("on loan", "being repaired"), never the code."""
    return Message(ITEM_STATES.get(status, ITEM_STATES["withdrawn"]))
